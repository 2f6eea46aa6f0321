// libcurl, loaded on first use instead of at start-up (common/shared_library.h says why).
//
// This file's .cc defines libcurl's functions that drctl uses (curl_easy_init, curl_easy_setopt,
// ...: the list is there) with their <curl/curl.h> names and signatures, each forwarding to the
// library LoadCurl() opened, so code that uses libcurl includes <curl/curl.h> and calls it as
// usual, after LoadCurl() succeeded once in the process. A function of that list called before
// then is a bug: it aborts naming itself. Code that needs a libcurl function not on the list
// adds it there (the build fails with an undefined reference until it does).
//
// Thread-safety: LoadCurl() may be called from many threads at once; the first call loads, and
// every call returns its outcome (a failure is not retried: the process would see the same
// files). The forwarding functions are as thread-safe as libcurl's own.
#pragma once

#include "common/result.h"

namespace drctl::storage {

// Opens libcurl.so.4, or what $DRCTL_LIBCURL names (a path or a SONAME), and resolves the
// functions drctl uses. Errors: kUnsupported naming the library and the loader's reason, with a
// hint to install Debian's libcurl4 package.
Status LoadCurl();

}  // namespace drctl::storage
