// Result<T>: a value or an Error. Functions that can fail return Result<T> (or Status for no value)
// and never throw; exceptions from third-party libraries are caught where they are called.
#pragma once

#include <expected>
#include <utility>

#include "common/error.h"

namespace drctl {

template <typename T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message, std::string hint = {}) {
  return std::unexpected<Error>(Error(code, std::move(message), std::move(hint)));
}

inline Status Ok() { return {}; }

}  // namespace drctl

// Evaluates `expr` (a Result or Status); on error returns it from the calling function.
#define DRCTL_TRY(expr)                                                  \
  do {                                                                   \
    if (auto drctl_try_result_ = (expr); !drctl_try_result_.has_value()) \
      return std::unexpected(std::move(drctl_try_result_).error());      \
  } while (false)
