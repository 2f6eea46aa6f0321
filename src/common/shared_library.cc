#include "common/shared_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace drctl {
namespace {

std::string LastDlError() {
  const char* error = dlerror();
  return error != nullptr ? error : "unknown error";
}

std::string InstallHint(const SharedLibrarySpec& spec) {
  return "drctl needs " + std::string(spec.name) + " (" + spec.soname + ") for " +
         std::string(spec.needed_for) + ": install Debian's " + std::string(spec.package) +
         " package (apt-get install " + std::string(spec.package) + ")";
}

}  // namespace

Result<SharedLibrary> SharedLibrary::Open(const SharedLibrarySpec& spec) {
  // secure_getenv: a set-user-ID drctl must not load a library the caller chose.
  const char* override_value =
      spec.override_env != nullptr ? secure_getenv(spec.override_env) : nullptr;
  const bool overridden = override_value != nullptr && *override_value != '\0';
  std::string location = overridden ? override_value : spec.soname;
  void* handle = dlopen(location.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle != nullptr) return SharedLibrary(handle, std::move(location), spec);
  const std::string reason = LastDlError();
  if (overridden) {
    return Fail(ErrorCode::kUnsupported,
                "cannot load " + std::string(spec.name) + " from " + location + " (set by " +
                    spec.override_env + "): " + reason,
                "unset " + std::string(spec.override_env) + " or point it at a working " +
                    spec.soname + "; " + InstallHint(spec));
  }
  return Fail(ErrorCode::kUnsupported,
              "cannot load " + std::string(spec.name) + " (" + location + "): " + reason,
              InstallHint(spec));
}

Result<void*> SharedLibrary::Symbol(const char* symbol) const {
  dlerror();  // clears a stale error: a symbol's address may legitimately be null
  void* address = dlsym(handle_, symbol);
  if (address != nullptr) return address;
  return Fail(
      ErrorCode::kUnsupported,
      std::string(spec_.name) + " at " + location_ + " has no function " + symbol + ": " +
          LastDlError(),
      "it is not the " + std::string(spec_.soname) + " drctl was built for; " + InstallHint(spec_));
}

void AbortNotLoaded(std::string_view function, std::string_view loader) {
  std::fprintf(stderr, "drctl: internal error: %.*s called before %.*s\n",
               static_cast<int>(function.size()), function.data(), static_cast<int>(loader.size()),
               loader.data());
  std::abort();
}

}  // namespace drctl
