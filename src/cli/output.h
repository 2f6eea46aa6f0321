// How commands talk to the operator: results on stdout as text or JSON (--output), errors on
// stderr as "error: ... / hint: ..." (and as JSON on stdout with --output json, for scripts).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/error.h"

namespace drctl::cli {

enum class OutputFormat : std::uint8_t { kText, kJson };

class Output {
 public:
  explicit Output(OutputFormat format) : format_(format) {}
  bool json() const { return format_ == OutputFormat::kJson; }

  // Prints `text` in text mode, `value` (pretty, one document) in JSON mode.
  void Result(const std::string& text, const nlohmann::json& value) const;

  // Prints an error; returns the process exit code for it.
  int Error(const drctl::Error& error) const;
  // A result whose command also failed in part (CommandOutput::failure): one JSON document with
  // "ok": false and the "error" beside the result's fields, or the text then the error on
  // stderr. Returns the error's exit code.
  int PartialFailure(const std::string& text, nlohmann::json value,
                     const drctl::Error& error) const;

  // A progress line on stderr when it is a terminal (text mode only).
  void Progress(const std::string& line) const;

 private:
  OutputFormat format_;
};

nlohmann::json ErrorToJson(const drctl::Error& error);

}  // namespace drctl::cli
