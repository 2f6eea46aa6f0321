// Upload and download throughput of drctl's S3 client (S3Storage) next to awscli, both against
// the real Swift s3api on loopback, in the same run, as ratios: the machine is shared and noisy,
// so absolute MiB/s mean little while ratios measured side by side do. bench/s3_throughput.sh
// builds and runs it; doc/benchmarks.md has the results.
//
// It starts Swift (testing::SwiftServer), generates N incompressible objects of S MiB (in memory
// for drctl, as files for awscli), and for each stream count: drctl uploads them with `streams`
// threads calling Storage::Write and downloads them with Storage::Read, and awscli does the same
// with `aws s3 cp --recursive` and max_concurrent_requests = streams. Every download is compared
// byte for byte with what was uploaded (a mismatch aborts the run). Both clients get the same
// thresholds (multipart above 64 MiB, 16 MiB parts) and at most `streams` requests in flight.
// With several rounds, each tool's best round counts (its first phase alternates between rounds).
//
// One JSON line per (streams, direction), then a summary line. awscli's time includes starting
// its Python interpreter, which `awscli_startup_s` measures (the quickest of three `aws s3api
// head-bucket`); `ratio_excl_startup` takes it out.
//
// Swift's processes are children of this one: stopped by PID on every return path, SIGTERMed at
// once on SIGINT/SIGTERM/SIGHUP, and killed by their parent-death signal if this process dies.
//
//   drctl_s3_throughput_bench [--objects N (16)] [--object-mib S (48)] [--streams 1,2,8]
//                             [--rounds R (3)] [--aws PATH (/usr/bin/aws)]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/process.h"
#include "common/temp_dir.h"
#include "harness/swift_server.h"
#include "storage/s3/s3_storage.h"

namespace {

using drctl::ErrorCode;
using drctl::Fail;
using drctl::Result;
using drctl::Status;
using drctl::storage::s3::kMiB;
using drctl::storage::s3::S3Storage;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kBucket = "drctl-bench";
constexpr std::chrono::minutes kAwsTimeout{10};

struct Args {
  // 768 MiB per phase: a few seconds each, so that awscli's start-up weighs less.
  std::size_t objects = 16;
  std::uint64_t object_mib = 48;  // below both multipart thresholds: one PUT or GET per object
  std::vector<int> streams = {1, 2, 8};
  int rounds = 3;
  std::string aws = "/usr/bin/aws";
};

void Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--objects N] [--object-mib S] [--streams 1,2,8] [--rounds R] "
               "[--aws PATH]\n",
               argv0);
}

std::optional<int> PositiveInt(const std::string& text) {
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used != text.size() || value <= 0) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<Args> ParseArgs(int argc, char** argv) {
  Args args;
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.size() % 2 != 0) return std::nullopt;
  for (std::size_t i = 0; i < words.size(); i += 2) {
    const std::string& flag = words[i];
    const std::string& value = words[i + 1];
    if (flag == "--aws") {
      args.aws = value;
      continue;
    }
    if (flag == "--streams") {
      args.streams.clear();
      std::size_t from = 0;
      while (from <= value.size()) {
        const std::size_t comma = std::min(value.find(',', from), value.size());
        const auto n = PositiveInt(value.substr(from, comma - from));
        if (!n) return std::nullopt;
        args.streams.push_back(*n);
        from = comma + 1;
      }
      continue;
    }
    const auto n = PositiveInt(value);
    if (!n) return std::nullopt;
    if (flag == "--objects") {
      args.objects = static_cast<std::size_t>(*n);
    } else if (flag == "--object-mib") {
      args.object_mib = static_cast<std::uint64_t>(*n);
    } else if (flag == "--rounds") {
      args.rounds = *n;
    } else {
      return std::nullopt;
    }
  }
  return args;
}

// Blocks SIGINT, SIGTERM and SIGHUP in every thread (construct it before any thread starts) and
// waits for them on its own thread: the first one marks the run interrupted and SIGTERMs the
// registered server PIDs, so that requests fail fast and main() unwinds through the destructors
// (which reap the servers and remove the temporary directories); a second signal, or main() not
// done a minute later, ends the process at once (the servers' parent-death signal kills them).
class SignalGuard {
 public:
  SignalGuard() {
    sigemptyset(&set_);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, sig);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::jthread([this](const std::stop_token& stop) { Watch(stop); });
  }
  ~SignalGuard() {
    thread_.request_stop();
    thread_.join();
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
  SignalGuard(SignalGuard&&) = delete;
  SignalGuard& operator=(SignalGuard&&) = delete;

  void Protect(std::vector<pid_t> pids) {
    const std::lock_guard lock(mu_);
    pids_ = std::move(pids);
  }
  void Release() {
    const std::lock_guard lock(mu_);
    pids_.clear();
  }
  bool interrupted() const { return signal_.load() != 0; }

 private:
  void Watch(const std::stop_token& stop) {
    const timespec tick{0, 200'000'000};
    std::optional<Clock::time_point> deadline;
    while (!stop.stop_requested()) {
      if (deadline && Clock::now() > *deadline) _exit(128 + signal_.load());
      const int sig = sigtimedwait(&set_, nullptr, &tick);
      if (sig <= 0) continue;
      if (signal_.exchange(sig) != 0) _exit(128 + sig);
      std::fprintf(stderr, "drctl_s3_throughput_bench: signal %d, stopping the servers\n", sig);
      deadline = Clock::now() + std::chrono::minutes(1);
      const std::lock_guard lock(mu_);
      for (const pid_t pid : pids_) kill(pid, SIGTERM);
    }
  }

  sigset_t set_{};
  std::atomic<int> signal_{0};
  std::mutex mu_;
  std::vector<pid_t> pids_;  // guarded by mu_
  std::jthread thread_;
};

// Registers the server's PIDs with the guard for as long as it lives (declare it after the
// server, so that it is released before the server stops and reaps them).
class ProtectedPids {
 public:
  ProtectedPids(SignalGuard& guard, std::vector<pid_t> pids) : guard_(guard) {
    guard_.Protect(std::move(pids));
  }
  ~ProtectedPids() { guard_.Release(); }
  ProtectedPids(const ProtectedPids&) = delete;
  ProtectedPids& operator=(const ProtectedPids&) = delete;
  ProtectedPids(ProtectedPids&&) = delete;
  ProtectedPids& operator=(ProtectedPids&&) = delete;

 private:
  SignalGuard& guard_;
};

// Incompressible bytes, different for every object (splitmix64).
std::string MakeObject(std::uint64_t size, std::uint64_t seed) {
  std::string out(size, '\0');
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ULL;
  for (std::size_t at = 0; at < out.size(); at += 8) {
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    z ^= z >> 31U;
    std::memcpy(out.data() + at, &z, std::min<std::size_t>(8, out.size() - at));
  }
  return out;
}

std::string ObjectName(std::size_t i) {
  std::string digits = std::to_string(i);
  if (digits.size() < 3) digits.insert(0, 3 - digits.size(), '0');
  return "obj-" + digits;
}

Status WriteFile(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return Fail(ErrorCode::kIo, "cannot write " + path.string());
  return drctl::Ok();
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kIo, "cannot open " + path.string());
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Fail(ErrorCode::kIo, "cannot read " + path.string());
  return data;
}

// Kept as a failure, with where the bytes differ: the benchmark's numbers mean nothing then.
Status SameBytes(std::string_view what, std::string_view got, std::string_view want) {
  if (got == want) return drctl::Ok();
  std::string where;
  if (got.size() != want.size()) {
    where = std::to_string(got.size()) + " bytes instead of " + std::to_string(want.size());
  } else {
    const auto diff = std::mismatch(got.begin(), got.end(), want.begin());
    where = "first difference at byte " + std::to_string(diff.first - got.begin());
  }
  return Fail(
      ErrorCode::kVerifyFailed,
      std::string(what) + ": downloaded bytes differ from the uploaded ones (" + where + ")");
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Runs job(0) ... job(n - 1) on `streams` threads, each taking the next index; returns the wall
// time, or the first failure (the other threads stop taking work then).
Result<double> RunParallel(std::size_t n, int streams,
                           const std::function<Status(std::size_t)>& job,
                           const SignalGuard& guard) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<drctl::Error> first;
  const auto start = Clock::now();
  {
    std::vector<std::jthread> threads;
    threads.reserve(static_cast<std::size_t>(streams));
    for (int t = 0; t < streams; ++t) {
      threads.emplace_back([&] {
        while (!failed.load() && !guard.interrupted()) {
          const std::size_t i = next.fetch_add(1);
          if (i >= n) return;
          auto status = job(i);
          if (!status) {
            const std::lock_guard lock(mu);
            if (!first) first = status.error();
            failed = true;
          }
        }
      });
    }
  }
  const double seconds = Seconds(Clock::now() - start);
  if (first) return std::unexpected(*first);
  if (guard.interrupted()) return Fail(ErrorCode::kInterrupted, "interrupted");
  return seconds;
}

// awscli with the credentials in its environment (never argv) and a config file of our own.
class AwsCli {
 public:
  AwsCli(std::string binary, std::string endpoint, fs::path config)
      : binary_(std::move(binary)), endpoint_(std::move(endpoint)), config_(std::move(config)) {}

  // Sets the transfer settings for `streams` concurrent requests, as drctl gets them.
  Status Configure(int streams) const {
    return WriteFile(config_,
                     "[default]\ns3 =\n  max_concurrent_requests = " + std::to_string(streams) +
                         "\n  multipart_threshold = 64MB\n  multipart_chunksize = 16MB\n");
  }

  // Runs `aws <args>` and returns its wall time (interpreter start-up included).
  Result<double> Run(const std::vector<std::string>& args) const {
    drctl::SpawnOptions o;
    o.argv = {binary_, "--endpoint-url", endpoint_, "--region",
              drctl::testing::SwiftServer::kRegion};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = {std::string("AWS_ACCESS_KEY_ID=") + drctl::testing::SwiftServer::kAccessKey,
             std::string("AWS_SECRET_ACCESS_KEY=") + drctl::testing::SwiftServer::kSecretKey,
             "AWS_SESSION_TOKEN=",
             "AWS_PROFILE=default",
             "AWS_CONFIG_FILE=" + config_.string(),
             "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
             "AWS_EC2_METADATA_DISABLED=true",
             "AWS_PAGER="};
    const auto start = Clock::now();
    auto result = drctl::RunCommand(o, kAwsTimeout);
    const double seconds = Seconds(Clock::now() - start);
    if (!result) return std::unexpected(result.error().WithContext("aws " + args.front()));
    if (result->exit_status != 0) {
      std::string err = result->err;
      if (err.size() > 2000) err.erase(0, err.size() - 2000);
      return Fail(ErrorCode::kCommandFailed, "aws " + args.front() + " " + args.at(1) +
                                                 " exited with status " +
                                                 std::to_string(result->exit_status) + ": " + err);
    }
    return seconds;
  }

  Result<std::string> Version() const {
    drctl::SpawnOptions o;
    o.argv = {binary_, "--version"};
    auto result = drctl::RunCommand(o, std::chrono::seconds(60));
    if (!result) return std::unexpected(result.error());
    if (result->exit_status != 0) {
      return Fail(ErrorCode::kCommandFailed,
                  binary_ + " --version failed: " + result->out + result->err,
                  "install awscli (scripts/install-deps.sh) or pass --aws PATH");
    }
    std::string text = result->out.empty() ? result->err : result->out;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
  }

 private:
  std::string binary_;
  std::string endpoint_;
  fs::path config_;
};

struct Measurement {
  std::vector<double> drctl;   // seconds per round
  std::vector<double> awscli;  // seconds per round
};

std::string JsonList(const std::vector<double>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%s%.3f", i == 0 ? "" : ", ", values[i]);
    out += buf;
  }
  return out + "]";
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

class Bench {
 public:
  Bench(const Args& args, SignalGuard& guard) : args_(args), guard_(guard) {}

  int Run() {
    auto status = RunAll();
    if (!status) {
      std::fprintf(stderr, "drctl_s3_throughput_bench: %s\n", status.error().ToString().c_str());
      return guard_.interrupted() ? 130 : 1;
    }
    return 0;
  }

 private:
  Status RunAll() {
    auto work = drctl::TempDir::Create("drctl-s3bench-");
    if (!work) return std::unexpected(work.error());
    const fs::path src = work->path() / "src";
    down_ = work->path() / "down";
    std::error_code ec;
    fs::create_directories(src, ec);
    if (ec) return Fail(ErrorCode::kIo, "cannot create " + src.string() + ": " + ec.message());

    const std::uint64_t size = args_.object_mib * kMiB;
    std::fprintf(stderr, "generating %zu objects of %llu MiB\n", args_.objects,
                 static_cast<unsigned long long>(args_.object_mib));
    for (std::size_t i = 0; i < args_.objects; ++i) {
      data_.push_back(MakeObject(size, i + 1));
      DRCTL_TRY(WriteFile(src / ObjectName(i), data_.back()));
    }

    std::fprintf(stderr, "starting Swift\n");
    auto swift = drctl::testing::SwiftServer::Start();
    if (!swift) return std::unexpected(swift.error().WithContext("starting Swift"));
    const ProtectedPids protect(guard_, swift->pids());
    DRCTL_TRY(CheckInterrupted());

    drctl::storage::s3::S3Options options;
    options.endpoint = swift->endpoint();
    options.bucket = kBucket;
    options.region = drctl::testing::SwiftServer::kRegion;
    options.path_style = true;
    options.access_key = drctl::testing::SwiftServer::kAccessKey;
    options.secret_key = drctl::testing::SwiftServer::kSecretKey;
    options.credentials_source = "the Swift test account";
    // As awscli's config: multipart above 64 MiB in 16 MiB parts, and at most one part in flight
    // per object, so that both clients have at most `streams` requests in flight.
    options.multipart_threshold = 64 * kMiB;
    options.part_size = 16 * kMiB;
    options.parallel_parts = 1;
    auto storage = S3Storage::Open(options);
    if (!storage) return std::unexpected(storage.error());
    s3_ = storage->get();
    DRCTL_TRY(s3_->CreateBucket());

    const AwsCli aws(args_.aws, swift->endpoint(), work->path() / "aws-config");
    aws_ = &aws;
    auto version = aws.Version();
    if (!version) return std::unexpected(version.error());
    DRCTL_TRY(aws.Configure(1));

    // Warm-up (first requests, interpreter caches), then awscli's fixed cost per command.
    DRCTL_TRY(s3_->Write("warmup", "warm"));
    DRCTL_TRY(s3_->Read("warmup"));
    DRCTL_TRY(s3_->Delete("warmup"));
    double startup = 1e9;
    for (int i = 0; i < 3; ++i) {
      auto seconds = aws.Run({"s3api", "head-bucket", "--bucket", kBucket});
      if (!seconds) return std::unexpected(seconds.error());
      startup = std::min(startup, *seconds);
    }
    std::fprintf(stderr, "%s; awscli start-up %.2f s\n", version->c_str(), startup);

    std::vector<double> ratios;
    std::vector<double> ratios_excl;
    std::vector<std::string> below;
    const double total_mib = static_cast<double>(args_.objects * args_.object_mib);
    for (const int streams : args_.streams) {
      DRCTL_TRY(aws.Configure(streams));
      Measurement up;
      Measurement down;
      for (int round = 0; round < args_.rounds; ++round) {
        std::fprintf(stderr, "streams %d, round %d/%d\n", streams, round + 1, args_.rounds);
        DRCTL_TRY(RunRound(streams, round, src, up, down));
      }
      for (auto& [direction, m] : {std::pair{"upload", &up}, std::pair{"download", &down}}) {
        const double drctl_s = *std::min_element(m->drctl.begin(), m->drctl.end());
        const double aws_s = *std::min_element(m->awscli.begin(), m->awscli.end());
        const double aws_excl_s = std::max(aws_s - startup, 1e-3);
        const double drctl_rate = total_mib / drctl_s;
        const double aws_rate = total_mib / aws_s;
        const double aws_excl_rate = total_mib / aws_excl_s;
        const double ratio = drctl_rate / aws_rate;
        const double ratio_excl = drctl_rate / aws_excl_rate;
        ratios.push_back(ratio);
        ratios_excl.push_back(ratio_excl);
        if (ratio < 1.0) below.push_back(std::string(direction) + "/" + std::to_string(streams));
        std::printf(
            "{\"bench\": \"s3_throughput\", \"streams\": %d, \"direction\": \"%s\", "
            "\"objects\": %zu, \"object_mib\": %llu, \"rounds\": %d, \"drctl_mib_s\": %.1f, "
            "\"awscli_mib_s\": %.1f, \"ratio\": %.3f, \"awscli_startup_s\": %.3f, "
            "\"awscli_mib_s_excl_startup\": %.1f, \"ratio_excl_startup\": %.3f, \"drctl_s\": %s, "
            "\"awscli_s\": %s}\n",
            streams, direction, args_.objects, static_cast<unsigned long long>(args_.object_mib),
            args_.rounds, drctl_rate, aws_rate, ratio, startup, aws_excl_rate, ratio_excl,
            JsonList(m->drctl).c_str(), JsonList(m->awscli).c_str());
        std::fflush(stdout);
      }
    }

    double log_sum = 0;
    for (const double r : ratios) log_sum += std::log(r);
    std::string below_json = "[";
    for (std::size_t i = 0; i < below.size(); ++i) {
      below_json += (i == 0 ? "" : ", ") + JsonString(below[i]);
    }
    below_json += "]";
    std::printf(
        "{\"bench\": \"s3_throughput\", \"summary\": true, \"awscli\": %s, "
        "\"min_ratio\": %.3f, \"geomean_ratio\": %.3f, \"min_ratio_excl_startup\": %.3f, "
        "\"target\": \"drctl not slower than awscli (every ratio >= 1)\", \"target_met\": %s, "
        "\"below_target\": %s}\n",
        JsonString(*version).c_str(), *std::min_element(ratios.begin(), ratios.end()),
        std::exp(log_sum / static_cast<double>(ratios.size())),
        *std::min_element(ratios_excl.begin(), ratios_excl.end()), below.empty() ? "true" : "false",
        below_json.c_str());
    std::fflush(stdout);

    s3_ = nullptr;
    aws_ = nullptr;
    auto stopped = swift->Stop();
    if (!stopped) return std::unexpected(stopped.error().WithContext("stopping Swift"));
    return drctl::Ok();
  }

  Status CheckInterrupted() const {
    if (guard_.interrupted()) return Fail(ErrorCode::kInterrupted, "interrupted by a signal");
    return drctl::Ok();
  }

  // One round at `streams`: both tools upload, then both download (the tool going first
  // alternates), every download verified; the objects are deleted afterwards.
  Status RunRound(int streams, int round, const fs::path& src, Measurement& up, Measurement& down) {
    const std::string drctl_prefix = "drctl/s" + std::to_string(streams) + "/";
    const std::string aws_prefix = "awscli/s" + std::to_string(streams) + "/";
    const std::string aws_url = std::string("s3://") + kBucket + "/" + aws_prefix;
    const bool drctl_first = round % 2 == 0;

    auto drctl_up = [&]() -> Status {
      auto seconds = RunParallel(
          data_.size(), streams,
          [&](std::size_t i) { return s3_->Write(drctl_prefix + ObjectName(i), data_[i]); },
          guard_);
      if (!seconds) return std::unexpected(seconds.error().WithContext("drctl upload"));
      up.drctl.push_back(*seconds);
      return drctl::Ok();
    };
    auto aws_up = [&]() -> Status {
      auto seconds =
          aws_->Run({"s3", "cp", "--recursive", "--only-show-errors", src.string(), aws_url});
      if (!seconds) return std::unexpected(seconds.error());
      up.awscli.push_back(*seconds);
      return CheckInterrupted();
    };
    auto drctl_down = [&]() -> Status {
      std::vector<std::string> got(data_.size());
      auto seconds = RunParallel(
          data_.size(), streams,
          [&](std::size_t i) -> Status {
            auto bytes = s3_->Read(drctl_prefix + ObjectName(i));
            if (!bytes) return std::unexpected(bytes.error());
            got[i] = std::move(*bytes);
            return drctl::Ok();
          },
          guard_);
      if (!seconds) return std::unexpected(seconds.error().WithContext("drctl download"));
      for (std::size_t i = 0; i < data_.size(); ++i) {
        DRCTL_TRY(SameBytes("drctl download of " + drctl_prefix + ObjectName(i), got[i], data_[i]));
      }
      down.drctl.push_back(*seconds);
      return drctl::Ok();
    };
    auto aws_down = [&]() -> Status {
      std::error_code ec;
      fs::remove_all(down_, ec);
      fs::create_directories(down_, ec);
      if (ec) return Fail(ErrorCode::kIo, "cannot create " + down_.string() + ": " + ec.message());
      auto seconds =
          aws_->Run({"s3", "cp", "--recursive", "--only-show-errors", aws_url, down_.string()});
      if (!seconds) return std::unexpected(seconds.error());
      DRCTL_TRY(CheckInterrupted());
      std::size_t files = 0;
      for (const auto& entry : fs::recursive_directory_iterator(down_, ec)) {
        if (entry.is_regular_file()) ++files;
      }
      if (files != data_.size()) {
        return Fail(ErrorCode::kVerifyFailed, "awscli downloaded " + std::to_string(files) +
                                                  " files instead of " +
                                                  std::to_string(data_.size()));
      }
      for (std::size_t i = 0; i < data_.size(); ++i) {
        auto bytes = ReadFile(down_ / ObjectName(i));
        if (!bytes) return std::unexpected(bytes.error());
        DRCTL_TRY(SameBytes("awscli download of " + aws_prefix + ObjectName(i), *bytes, data_[i]));
      }
      down.awscli.push_back(*seconds);
      return drctl::Ok();
    };

    if (drctl_first) {
      DRCTL_TRY(drctl_up());
      DRCTL_TRY(aws_up());
      DRCTL_TRY(drctl_down());
      DRCTL_TRY(aws_down());
    } else {
      DRCTL_TRY(aws_up());
      DRCTL_TRY(drctl_up());
      DRCTL_TRY(aws_down());
      DRCTL_TRY(drctl_down());
    }

    std::vector<std::string> keys;
    for (const auto& prefix : {drctl_prefix, aws_prefix}) {
      DRCTL_TRY(s3_->List(prefix, [&](const drctl::storage::ObjectInfo& info) -> Status {
        keys.push_back(info.key);
        return drctl::Ok();
      }));
    }
    if (keys.size() != 2 * data_.size()) {
      return Fail(ErrorCode::kVerifyFailed, "the bucket lists " + std::to_string(keys.size()) +
                                                " objects after the round instead of " +
                                                std::to_string(2 * data_.size()));
    }
    return s3_->DeleteMany(keys);
  }

  const Args& args_;
  SignalGuard& guard_;
  std::vector<std::string> data_;
  fs::path down_;
  S3Storage* s3_ = nullptr;
  const AwsCli* aws_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  const auto args = ParseArgs(argc, argv);
  if (!args) {
    Usage(argv[0]);
    return 2;
  }
  SignalGuard guard;  // first: blocks the signals before any thread starts
  return Bench(*args, guard).Run();
}
