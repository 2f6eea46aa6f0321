#include "cli/output.h"

#include <unistd.h>

#include <iostream>

namespace drctl::cli {

nlohmann::json ErrorToJson(const drctl::Error& error) {
  const auto& info = InfoFor(error.code());
  return {{"code", std::string(info.name)},
          {"exit_code", info.exit_code},
          {"retryable", error.retryable()},
          {"message", error.message()},
          {"hint", error.hint()}};
}

void Output::Result(const std::string& text, const nlohmann::json& value) const {
  if (json()) {
    std::cout << value.dump(2) << "\n";
  } else {
    std::cout << text;
    if (!text.empty() && text.back() != '\n') std::cout << "\n";
  }
  std::cout.flush();
}

int Output::Error(const drctl::Error& error) const {
  if (json()) {
    std::cout << nlohmann::json{{"ok", false}, {"error", ErrorToJson(error)}}.dump(2) << "\n";
    std::cout.flush();
  }
  std::cerr << "drctl: error: " << error.message() << "\n";
  if (!error.hint().empty()) std::cerr << "  hint: " << error.hint() << "\n";
  return error.exit_code();
}

int Output::PartialFailure(const std::string& text, nlohmann::json value,
                           const drctl::Error& error) const {
  if (json()) {
    value["ok"] = false;
    value["error"] = ErrorToJson(error);
    std::cout << value.dump(2) << "\n";
    std::cout.flush();
  } else {
    Result(text, value);
  }
  std::cerr << "drctl: error: " << error.message() << "\n";
  if (!error.hint().empty()) std::cerr << "  hint: " << error.hint() << "\n";
  return error.exit_code();
}

void Output::Progress(const std::string& line) const {
  if (json() || isatty(STDERR_FILENO) == 0) return;
  std::cerr << "\r\033[K" << line << std::flush;
}

}  // namespace drctl::cli
