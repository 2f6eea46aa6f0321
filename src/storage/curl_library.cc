#include "storage/curl_library.h"

#include <curl/curl.h>

#include <atomic>
#include <cstdarg>

#include "common/shared_library.h"

// <curl/curl.h> defines curl_easy_setopt and curl_easy_getinfo as macros too (to check argument
// types); the definitions below are of the functions.
#undef curl_easy_setopt
#undef curl_easy_getinfo

namespace drctl::storage {
namespace {

constexpr SharedLibrarySpec kLibcurl{.name = "libcurl",
                                     .soname = "libcurl.so.4",
                                     .override_env = "DRCTL_LIBCURL",
                                     .package = "libcurl4",
                                     .needed_for = "S3 repositories and webhook alerts"};

// libcurl's functions drctl uses: each has a forwarding definition below.
struct CurlApi {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

// Set once every function is resolved; read by the forwarding functions.
std::atomic<const CurlApi*> loaded_api{nullptr};

Status Load() {
  auto lib = SharedLibrary::Open(kLibcurl);
  if (!lib) return std::unexpected(lib.error());
  static CurlApi api;
  DRCTL_TRY(lib->Bind("curl_global_init", api.global_init));
  DRCTL_TRY(lib->Bind("curl_easy_init", api.easy_init));
  DRCTL_TRY(lib->Bind("curl_easy_setopt", api.easy_setopt));
  DRCTL_TRY(lib->Bind("curl_easy_perform", api.easy_perform));
  DRCTL_TRY(lib->Bind("curl_easy_getinfo", api.easy_getinfo));
  DRCTL_TRY(lib->Bind("curl_easy_cleanup", api.easy_cleanup));
  DRCTL_TRY(lib->Bind("curl_easy_reset", api.easy_reset));
  DRCTL_TRY(lib->Bind("curl_easy_strerror", api.easy_strerror));
  DRCTL_TRY(lib->Bind("curl_slist_append", api.slist_append));
  DRCTL_TRY(lib->Bind("curl_slist_free_all", api.slist_free_all));
  loaded_api.store(&api, std::memory_order_release);
  return Ok();
}

const CurlApi& Api(const char* function) {
  const CurlApi* api = loaded_api.load(std::memory_order_acquire);
  if (api == nullptr) AbortNotLoaded(function, "drctl::storage::LoadCurl()");
  return *api;
}

// curl_easy_setopt's value, read from `args` as a T and passed on.
template <typename T>
CURLcode SetOption(const CurlApi& api, CURL* curl, CURLoption option, va_list args) {
  return api.easy_setopt(curl, option, va_arg(args, T));
}

}  // namespace

Status LoadCurl() {
  static const Status kLoaded = Load();
  return kLoaded;
}

}  // namespace drctl::storage

// The forwarding definitions, with <curl/curl.h>'s names and signatures.
// NOLINTBEGIN(readability-identifier-naming,google-runtime-int)
extern "C" {

using drctl::storage::Api;

CURLcode curl_global_init(long flags) { return Api(__func__).global_init(flags); }

CURL* curl_easy_init() { return Api(__func__).easy_init(); }

// va_start after a parameter of enum type: strictly undefined in ISO C++ (the enum is promoted
// when passed), but what libcurl's own definitions do, and well-defined in every ABI drctl builds
// for (va_start only locates the arguments after the last named one).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif

// The variadic argument's type follows from the option's number (CURLOPTTYPE_* in <curl/curl.h>).
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  const auto& api = Api(__func__);
  const int number = static_cast<int>(option);
  va_list args;
  va_start(args, option);
  using drctl::storage::SetOption;
  CURLcode code = CURLE_OK;
  if (number < CURLOPTTYPE_OBJECTPOINT) {
    code = SetOption<long>(api, curl, option, args);
  } else if (number >= CURLOPTTYPE_FUNCTIONPOINT && number < CURLOPTTYPE_OFF_T) {
    code = SetOption<void (*)()>(api, curl, option, args);
  } else if (number >= CURLOPTTYPE_OFF_T && number < CURLOPTTYPE_BLOB) {
    code = SetOption<curl_off_t>(api, curl, option, args);
  } else {  // object, string and list pointers; struct curl_blob* from CURLOPTTYPE_BLOB on
    code = SetOption<void*>(api, curl, option, args);
  }
  va_end(args);
  return code;
}

CURLcode curl_easy_perform(CURL* curl) { return Api(__func__).easy_perform(curl); }

// Every CURLINFO_* takes one pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  const auto& api = Api(__func__);
  va_list args;
  va_start(args, info);
  void* out = va_arg(args, void*);
  va_end(args);
  return api.easy_getinfo(curl, info, out);
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

void curl_easy_cleanup(CURL* curl) { Api(__func__).easy_cleanup(curl); }

void curl_easy_reset(CURL* curl) { Api(__func__).easy_reset(curl); }

const char* curl_easy_strerror(CURLcode code) { return Api(__func__).easy_strerror(code); }

curl_slist* curl_slist_append(curl_slist* list, const char* data) {
  return Api(__func__).slist_append(list, data);
}

void curl_slist_free_all(curl_slist* list) { Api(__func__).slist_free_all(list); }

}  // extern "C"
// NOLINTEND(readability-identifier-naming,google-runtime-int)
