#include "cli/app.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>

#include "cli/config_render.h"
#include "cli/output.h"
#include "command/demo/demo.h"
#include "common/config.h"
#include "common/log.h"

#ifndef DRCTL_VERSION
#define DRCTL_VERSION "0.0.0"
#endif

namespace drctl::cli {
namespace {

struct Globals {
  std::string config_path;
  std::string output = "text";
  std::string log_level = "warn";
};

Result<Config> LoadConfig(const Globals& g) {
  std::optional<std::filesystem::path> explicit_path;
  if (!g.config_path.empty()) explicit_path = g.config_path;
  auto path = FindConfigFile(explicit_path);
  if (!path) return std::unexpected(path.error());
  return LoadConfigFile(*path);
}

int ConfigCheck(const Globals& g, const Output& out) {
  auto config = LoadConfig(g);
  if (!config) return out.Error(config.error());
  nlohmann::json j = ConfigToJson(*config);
  j["ok"] = true;
  out.Result(ConfigToText(*config), j);
  return 0;
}

int ListErrors(const Output& out) {
  nlohmann::json list = nlohmann::json::array();
  std::string text = "exit  name                retry      meaning\n";
  for (const auto& info : ErrorCatalog()) {
    const char* retry = info.retry == Retry::kNow        ? "yes"
                        : info.retry == Retry::kAfterFix ? "after-fix"
                                                         : "no";
    list.push_back({{"exit_code", info.exit_code},
                    {"name", std::string(info.name)},
                    {"retry", retry},
                    {"meaning", std::string(info.meaning)}});
    text += fmt::format("{:<5} {:<19} {:<10} {}\n", info.exit_code, info.name, retry, info.meaning);
  }
  out.Result(text, list);
  return 0;
}

int Demo(const command::DemoOptions& options, const Output& out) {
  if (!out.json()) std::cout << "drctl demo: a throwaway PostgreSQL and a local repository\n";
  auto report = command::RunDemo(options, [&](const command::DemoStep& step) {
    if (!out.json()) {
      std::cout << fmt::format("  {:<4} {:<22} {:>7.2f}s  {}\n", step.ok ? "ok" : "FAIL", step.name,
                               step.seconds, step.detail)
                << std::flush;
    }
  });
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : report.steps) {
    steps.push_back({{"name", s.name}, {"ok", s.ok}, {"seconds", s.seconds}, {"detail", s.detail}});
  }
  const std::string summary = report.ok ? "demo finished: every step passed\n"
                                        : "demo FAILED: see the failing step above\n";
  out.Result(out.json() ? "" : summary,
             {{"ok", report.ok}, {"workdir", report.workdir.string()}, {"steps", steps}});
  if (report.ok) return 0;
  return InfoFor(ErrorCode::kVerifyFailed).exit_code;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"drctl: disaster recovery for PostgreSQL + Redis stacks", "drctl"};
  app.set_version_flag("--version", std::string("drctl ") + DRCTL_VERSION);
  app.require_subcommand(1);
  Globals g;
  app.add_option("--config", g.config_path,
                 "config file (default: $DRCTL_CONFIG, ./drctl.toml, /etc/drctl/drctl.toml)");
  app.add_option("--output", g.output, "result format on stdout")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", g.log_level, "log level on stderr")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  auto* config_cmd = app.add_subcommand("config", "configuration");
  config_cmd->require_subcommand(1);
  auto* check = config_cmd->add_subcommand(
      "check", "validate the config and print it, defaults filled in, secrets masked");

  auto* errors = app.add_subcommand("errors", "list the error codes and exit codes");

  command::DemoOptions demo_options;
  std::string demo_workdir;
  auto* demo = app.add_subcommand(
      "demo", "drctl's main job on embedded defaults, on a throwaway PostgreSQL");
  demo->add_option("--workdir", demo_workdir, "workspace directory (default: a temporary one)");
  demo->add_flag("--keep", demo_options.keep, "keep the workspace afterwards");
  demo->add_option("--users", demo_options.users, "rows in the sample \"User\" table")
      ->check(CLI::Range(1, 10000000));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    app.exit(e);
    return InfoFor(ErrorCode::kUsage).exit_code;
  }
  const Output out(g.output == "json" ? OutputFormat::kJson : OutputFormat::kText);
  if (auto logging = InitLogging(g.log_level); !logging) return out.Error(logging.error());

  if (*check) return ConfigCheck(g, out);
  if (*errors) return ListErrors(out);
  if (*demo) {
    demo_options.workdir = demo_workdir;
    return Demo(demo_options, out);
  }
  return InfoFor(ErrorCode::kUsage).exit_code;
}

}  // namespace drctl::cli
