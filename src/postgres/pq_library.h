// libpq, loaded on first use instead of at start-up (common/shared_library.h says why).
//
// This file's .cc defines libpq's functions that drctl uses (PQconnectdb, PQexec, ...: the list is
// there) with their <libpq-fe.h> names and signatures, each forwarding to the library LoadPq()
// opened, so code that uses libpq includes <libpq-fe.h> and calls it as usual, after LoadPq()
// succeeded once in the process. A function of that list called before then is a bug: it aborts
// naming itself. Code that needs a libpq function not on the list adds it there (the build fails
// with an undefined reference until it does).
//
// Thread-safety: LoadPq() may be called from many threads at once; the first call loads, and
// every call returns its outcome (a failure is not retried: the process would see the same
// files). The forwarding functions are as thread-safe as libpq's own.
#pragma once

#include "common/result.h"

namespace drctl::pg {

// Opens libpq.so.5, or what $DRCTL_LIBPQ names (a path or a SONAME), and resolves the functions
// drctl uses. Errors: kUnsupported naming the library and the loader's reason, with a hint to
// install Debian's libpq5 package.
Status LoadPq();

}  // namespace drctl::pg
