// Shared libraries opened at run time (dlopen) rather than by the dynamic loader at start-up.
// drctl's heavy dependencies that only some commands need (libcurl for S3 and webhooks, libpq for
// PostgreSQL) are loaded this way on first use (storage/curl_library.h, postgres/pq_library.h):
// linked normally they and their own dependencies cost every process ~4 ms before main(), and
// `drctl wal push` runs once per WAL segment.
//
// A library is opened by its SONAME through the usual search path, or as the environment variable
// the caller names says (a path or a SONAME: for tests and unusual installations). It is opened
// with RTLD_NOW | RTLD_LOCAL and never closed, so the addresses it gives stay valid for the life
// of the process. Failures are kUnsupported: this installation lacks the library a feature needs,
// and retrying cannot help until it is installed; the message names the library, what was
// opened and the loader's reason, the hint the Debian package to install.
//
// Thread-safety: a SharedLibrary is immutable; its methods may be called from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace drctl {

// What to open. Every field refers to a string with static storage duration (a literal).
struct SharedLibrarySpec {
  std::string_view name;               // "libcurl": names the library in messages
  const char* soname = nullptr;        // "libcurl.so.4": what is opened by default
  const char* override_env = nullptr;  // "DRCTL_LIBCURL": if set and not empty, opened instead
  std::string_view package;            // "libcurl4": the Debian package that provides `soname`
  std::string_view needed_for;         // "S3 repositories and webhook alerts": for the hint
};

class SharedLibrary {
 public:
  // Opens the library `spec` describes. Errors: kUnsupported, as described above.
  static Result<SharedLibrary> Open(const SharedLibrarySpec& spec);

  // Sets `fn` to the address of the function `symbol` of the library. Errors: kUnsupported
  // naming the library and the symbol (an older or foreign library under the same name).
  template <typename Fn>
  Status Bind(const char* symbol, Fn*& fn) const {
    auto address = Symbol(symbol);
    if (!address) return std::unexpected(address.error());
    fn = reinterpret_cast<Fn*>(*address);  // POSIX guarantees this conversion for dlsym
    return Ok();
  }

  // What was opened: the SONAME or the override's value.
  const std::string& location() const { return location_; }

 private:
  SharedLibrary(void* handle, std::string location, const SharedLibrarySpec& spec)
      : handle_(handle), location_(std::move(location)), spec_(spec) {}
  Result<void*> Symbol(const char* symbol) const;

  void* handle_;  // from dlopen; never closed
  std::string location_;
  SharedLibrarySpec spec_;  // its views and pointers refer to static strings
};

// For a function that forwards to a run-time loaded library but is called before the library's
// loader succeeded (a bug in drctl): writes "drctl: internal error: <function> called before
// <loader>" to stderr and aborts.
[[noreturn]] void AbortNotLoaded(std::string_view function, std::string_view loader);

}  // namespace drctl
