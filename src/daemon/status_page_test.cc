#include "daemon/status_page.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/markup.h"
#include "common/process.h"
#include "common/temp_dir.h"
#include "daemon/http_server.h"

namespace drctl::daemon {
namespace {

using command::Health;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kNow = 1'714'000'000;  // 2024-04-24 23:06:40 UTC
constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::uint64_t kGiB = 1024ULL * 1024 * 1024;

command::ObjectiveCheck Check(std::string name, Health health, std::optional<double> value,
                              double objective, std::string detail = {}) {
  return {.name = std::move(name),
          .health = health,
          .value_seconds = value,
          .objective_seconds = objective,
          .detail = std::move(detail)};
}

// Backups every `every` seconds back from `last` to `first` (stop times), 25 minutes each, oldest
// first.
std::vector<command::BackupPoint> Backups(std::int64_t first, std::int64_t last,
                                          std::int64_t every) {
  std::vector<command::BackupPoint> backups;
  for (std::int64_t stop = last - (last - first) / every * every; stop <= last; stop += every) {
    backups.push_back({.id = fmt::format("b{}", stop),
                       .start_time = stop - 1500,
                       .stop_time = stop,
                       .logical_size = 42 * kGiB,
                       .new_bytes = (1 + static_cast<std::uint64_t>(stop % 3)) * kGiB});
  }
  return backups;
}

// The primary's repository: two timelines (a failover six days ago), everything met.
command::RepoStatus LocalRepo() {
  command::RepoStatus r;
  command::RepoFacts& f = r.facts;
  f.repo = "local";
  f.url = "posix:/var/lib/drctl/repo";
  f.reachable = true;
  f.newest_wal = "00000002000000A70000003C.partial";
  f.newest_wal_time = kNow - 25;
  f.backups = Backups(kNow - 13 * kDay - 2 * kHour, kNow - 2 * kHour, 12 * kHour);
  f.drills = {{.id = "drill-3", .time = kNow - kDay, .ok = true, .rto_seconds = 4320},
              {.id = "drill-2", .time = kNow - 8 * kDay, .ok = true, .rto_seconds = 3900},
              {.id = "drill-1", .time = kNow - 10 * kDay, .ok = false, .failed_step = "amcheck"}};
  f.windows = {{.timeline = 1,
                .from_time = kNow - 13 * kDay - 2 * kHour - 1500,
                .to_time = kNow - 6 * kDay,
                .from = "backup b1",
                .from_lsn = "0/3000028",
                .to_lsn = "9F/12000000"},
               {.timeline = 2,
                .to_time = kNow - 25,
                .from = "switch from timeline 1",
                .from_lsn = "9F/12000000",
                .to_lsn = "A7/3C5E1F00"}};
  r.rpo_exposure_seconds = 252;
  r.objectives = {Check("rpo", Health::kOk, 252, 900, "newest WAL stored 4m 12s ago"),
                  Check("backup_age", Health::kOk, 2 * kHour, 7 * kHour),
                  Check("drill_age", Health::kOk, kDay, 8 * kDay),
                  Check("rto", Health::kOk, 4320, 4 * kHour)};
  return r;
}

// The DR region's repository: it stopped receiving WAL two hours ago and has a gap.
command::RepoStatus DrRepo() {
  command::RepoStatus r;
  command::RepoFacts& f = r.facts;
  f.repo = "s3-dr";
  f.url = "s3://acme-dr-eu-central-1/drctl";
  f.reachable = true;
  f.newest_wal = "00000002000000A700000031";
  f.newest_wal_time = kNow - 2 * kHour;
  f.backups = Backups(kNow - 13 * kDay - 9 * kHour, kNow - 9 * kHour, kDay);
  f.drills = {{.id = "drill-dr-2", .time = kNow - 3 * kDay, .ok = false, .failed_step = "restore"},
              {.id = "drill-dr-1", .time = kNow - 6 * kDay, .ok = true, .rto_seconds = 11400}};
  f.windows = {
      {.timeline = 1, .from_time = kNow - 13 * kDay - 9 * kHour - 1500, .to_time = kNow - 6 * kDay},
      {.timeline = 2, .to_time = kNow - 3 * kDay},
      {.timeline = 2, .from_time = kNow - 2 * kDay, .to_time = kNow - 2 * kHour}};
  r.rpo_exposure_seconds = 2 * kHour;
  r.objectives = {
      Check("rpo", Health::kFail, 2 * kHour, 900,
            "newest WAL stored 2h ago: check archive_command and the repository"),
      Check("backup_age", Health::kFail, 9 * kHour, 7 * kHour, "newest backup is 9h old"),
      Check("drill_age", Health::kWarn, 6 * kDay, 8 * kDay, "the newest drill failed (restore)"),
      Check("rto", Health::kWarn, 11400, 4 * kHour, "above 3/4 of the objective")};
  r.health = Health::kFail;
  return r;
}

DaemonSnapshot RealisticSnapshot() {
  DaemonSnapshot s;
  s.started_at = kNow - 3 * kDay;
  s.now = kNow;
  s.version = "0.1.0";
  s.status = {.measured_at = kNow - 12,
              .postgres = {.reachable = true, .current_lsn = 0xA73C5E2000, .timeline = 2},
              .repos = {LocalRepo(), DrRepo()},
              .health = Health::kFail};
  s.jobs = {{.name = "backup",
             .schedule = "0 */6 * * *",
             .last_start = kNow - 2 * kHour - 1500,
             .last_end = kNow - 2 * kHour,
             .last_outcome = "ok",
             .last_duration_seconds = 1500,
             .next_run = kNow + 4 * kHour,
             .runs_ok = 12,
             .last_bytes = 2 * kGiB},
            {.name = "expire",
             .schedule = "30 1 * * *",
             .last_start = kNow - 21 * kHour,
             .last_end = kNow - 21 * kHour + 40,
             .last_outcome = "ok",
             .last_duration_seconds = 40,
             .next_run = kNow + 3 * kHour,
             .runs_ok = 3},
            {.name = "verify",
             .schedule = "0 2 * * *",
             .last_start = kNow - 20 * kHour,
             .last_end = kNow - 20 * kHour + 600,
             .last_outcome = "failed",
             .last_error = "s3-dr: pack 3f2a9c missing (exit 9)",
             .last_duration_seconds = 600,
             .consecutive_failures = 2,
             .next_run = kNow + 600,
             .runs_ok = 1,
             .runs_failed = 2},
            {.name = "drill",
             .schedule = "0 3 * * 0",
             .running = true,
             .last_start = kNow - 300,
             .last_outcome = "ok",
             .next_run = kNow + 7 * kDay,
             .runs_ok = 1},
            {.name = "sync",
             .schedule = "*/15 * * * *",
             .last_start = kNow - 360,
             .last_end = kNow - 300,
             .last_outcome = "failed",
             .last_error = "s3-dr: connection timed out",
             .last_duration_seconds = 60,
             .consecutive_failures = 8,
             .next_run = kNow + 540,
             .runs_ok = 200,
             .runs_failed = 8}};
  s.recent = {{"sync", kNow - 360, kNow - 300, "failed", "s3-dr: connection timed out"},
              {"backup", kNow - 2 * kHour - 1500, kNow - 2 * kHour, "ok", "42.0 GiB, 2.0 GiB new"},
              {"verify", kNow - 20 * kHour, kNow - 20 * kHour + 600, "failed",
               "s3-dr: pack 3f2a9c missing (exit 9)"}};
  s.alerts = {{"objective:rpo:s3-dr", "s3-dr: RPO 2h of 15m", kNow - 100 * kMinute},
              {"job:verify", "verify failed twice in a row", kNow - 20 * kHour}};
  s.stream = {.enabled = true,
              .running = true,
              .restarts = 1,
              .last_exit = "exit 6: connection to server lost"};
  return s;
}

// A repository and messages that try to inject markup.
DaemonSnapshot HostileSnapshot() {
  DaemonSnapshot s = RealisticSnapshot();
  s.status.repos.resize(1);
  command::RepoFacts& f = s.status.repos[0].facts;
  f.repo = R"(<script>alert("x")</script>)";
  f.reachable = false;
  f.error = R"(<img src=x onerror=alert(1)> & 'quoted')";
  f.backups[0].id = "</title><script>alert(2)</script>";
  s.jobs[2].last_error = "</td><script>alert(3)</script>";
  s.alerts[0].message = "<b>bold</b>";
  s.stream.last_exit = "<iframe src=//evil>";
  s.version = "\"><svg onload=alert(4)>";
  return s;
}

std::string Between(const std::string& text, const std::string& from, const std::string& to) {
  const std::size_t begin = text.find(from);
  if (begin == std::string::npos) return {};
  const std::size_t end = text.find(to, begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// The page as a browser (or this test) sees it: what each repository's objectives and timeline
// hold.
void ExpectObjectivesAndTimelines(const std::string& html) {
  const std::string local = Between(html, R"(id="objectives-local")", "</ul>");
  EXPECT_THAT(local, HasSubstr(R"(class="objective ok" data-objective="rpo")"));
  EXPECT_THAT(local, HasSubstr("4m 12s of 15m"));
  EXPECT_THAT(local, Not(HasSubstr("objective fail")));
  const std::string dr = Between(html, R"(id="objectives-s3-dr")", "</ul>");
  EXPECT_THAT(dr, HasSubstr(R"(class="objective fail" data-objective="rpo")"));
  EXPECT_THAT(dr, HasSubstr("2h of 15m"));
  EXPECT_THAT(dr, HasSubstr(R"(class="objective warn" data-objective="rto")"));
  EXPECT_THAT(dr, HasSubstr("3h 10m of 4h"));
  const std::string timeline = Between(html, R"(id="timeline-local")", "</svg>");
  EXPECT_THAT(timeline, HasSubstr(R"(class="window")"));
  EXPECT_THAT(timeline, HasSubstr(R"(class="window unknown-start" data-timeline="2")"));
  EXPECT_THAT(timeline, HasSubstr(R"(class="backup")"));
  EXPECT_THAT(timeline, HasSubstr(R"(class="drill passed")"));
  EXPECT_THAT(timeline, HasSubstr(R"(class="now")"));
  const std::string dr_timeline = Between(html, R"(id="timeline-s3-dr")", "</svg>");
  EXPECT_THAT(dr_timeline, HasSubstr(R"(class="drill failed")"));
  EXPECT_THAT(html, HasSubstr(R"(id="health" class="banner fail")"));
}

TEST(RenderStatusPage, ShowsObjectivesTimelinesJobsAlertsAndStream) {
  const std::string html = RenderStatusPage(RealisticSnapshot());
  ExpectObjectivesAndTimelines(html);
  EXPECT_THAT(html, HasSubstr("FAIL: s3-dr rpo, s3-dr backup_age."));
  EXPECT_THAT(html, HasSubstr(R"(<meta http-equiv="refresh" content="30">)"));
  EXPECT_THAT(html, Not(HasSubstr("<script"))) << "no scripts needed";
  EXPECT_THAT(html, Not(HasSubstr("http://"))) << "no external resources";
  // Every backup of the local repository lies within the 14 days drawn: each has its marker.
  const std::string timeline = Between(html, R"(id="timeline-local")", "</svg>");
  std::size_t backups = 0;
  for (std::size_t at = 0; (at = timeline.find("class=\"backup", at)) != std::string::npos; ++at) {
    ++backups;
  }
  EXPECT_EQ(backups, LocalRepo().facts.backups.size());
  EXPECT_THAT(Between(html, R"(id="jobs")", "</section>"), HasSubstr("failed (2 in a row)"));
  EXPECT_THAT(Between(html, R"(id="alerts")", "</section>"), HasSubstr("s3-dr: RPO 2h of 15m"));
  EXPECT_THAT(Between(html, R"(id="stream")", "</section>"),
              HasSubstr("exit 6: connection to server lost"));
}

TEST(RenderStatusPage, NotMeasuredYet) {
  DaemonSnapshot s;
  s.started_at = kNow;
  s.now = kNow;
  const std::string html = RenderStatusPage(s);
  EXPECT_THAT(html, HasSubstr(R"(id="health" class="banner unknown")"));
  EXPECT_THAT(html, HasSubstr("not measured yet"));
  EXPECT_THAT(html, HasSubstr("No active alerts."));
}

TEST(RenderStatusPage, EscapesEverythingFromTheSnapshot) {
  const std::string html = RenderStatusPage(HostileSnapshot());
  for (const char* markup : {"<script", "<img", "<b>", "<iframe", "<svg onload", "</td><script"}) {
    EXPECT_THAT(html, Not(HasSubstr(markup))) << markup;
  }
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("&lt;img src=x onerror=alert(1)&gt; &amp; &#39;quoted&#39;"));
  EXPECT_THAT(html, HasSubstr(R"(id="objectives-_script_alert__x____script_")"));
}

TEST(HtmlEscape, ReplacesMarkupCharacters) {
  EXPECT_EQ(EscapeMarkup("plain text"), "plain text");
  EXPECT_EQ(EscapeMarkup(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

// --- In a real browser ------------------------------------------------------------------------

bool ChromiumInstalled() {
  auto which = RunCommand({"/bin/sh", "-c", "command -v chromium"}, std::chrono::seconds(10));
  return which && which->exit_status == 0;
}

// Runs headless Chromium with a profile of its own in `dir` (root needs --no-sandbox).
Result<CommandResult> RunChromium(const std::filesystem::path& dir, const std::string& name,
                                  std::vector<std::string> args) {
  std::vector<std::string> argv = {"chromium",
                                   "--headless=new",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--no-proxy-server",
                                   "--hide-scrollbars",
                                   "--user-data-dir=" + (dir / name).string()};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return RunCommand(argv, std::chrono::seconds(120));
}

// Serves `snapshot` on a free loopback port; nullptr (and a failed expectation) if it cannot.
std::unique_ptr<HttpServer> Serve(const DaemonSnapshot& snapshot) {
  auto server = HttpServer::Start("127.0.0.1:0", false, std::nullopt,
                                  [snapshot]() -> DaemonSnapshot { return snapshot; });
  EXPECT_TRUE(server.has_value()) << server.error().ToString();
  return server ? std::move(*server) : nullptr;
}

class StatusPageInChromium : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ChromiumInstalled())
        << "chromium is missing: run scripts/install-deps.sh (Debian package chromium)";
    auto dir = TempDir::Create("drctl-chromium-");
    ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
  }

  // Serves `snapshot` and returns the DOM Chromium built from the page.
  std::string DumpDom(const DaemonSnapshot& snapshot) {
    auto server = Serve(snapshot);
    if (!server) return {};
    auto r = RunChromium(dir_->path(), "dom",
                         {"--dump-dom", fmt::format("http://127.0.0.1:{}/", server->port())});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (!r) return {};
    EXPECT_EQ(r->exit_status, 0) << r->err;
    return r->out;
  }

  std::optional<TempDir> dir_;
};

TEST_F(StatusPageInChromium, ShowsObjectivesAndTimeline) {
  const std::string dom = DumpDom(RealisticSnapshot());
  ASSERT_THAT(dom, HasSubstr("</html>"));
  ExpectObjectivesAndTimelines(dom);
}

TEST_F(StatusPageInChromium, HostileStringsStayText) {
  const std::string dom = DumpDom(HostileSnapshot());
  ASSERT_THAT(dom, HasSubstr("</html>"));
  for (const char* element : {"<script", "<img", "<b>", "<iframe", "<svg onload"}) {
    EXPECT_THAT(dom, Not(HasSubstr(element))) << element;
  }
  EXPECT_THAT(dom, HasSubstr("&lt;script&gt;alert(\"x\")&lt;/script&gt;"));
}

// Also writes the picture for the README when DRCTL_SCREENSHOT_OUT names a file (doc/http.md):
//   DRCTL_SCREENSHOT_OUT=$PWD/doc/img/status-page.png build/ci/src/daemon/drctl_daemon_test
//       --gtest_filter=StatusPageInChromium.Screenshot
TEST_F(StatusPageInChromium, Screenshot) {
  auto server = Serve(RealisticSnapshot());
  ASSERT_NE(server, nullptr);
  const std::filesystem::path png = dir_->path() / "status-page.png";
  auto r = RunChromium(dir_->path(), "screenshot",
                       {"--screenshot=" + png.string(), "--window-size=1280,900",
                        fmt::format("http://127.0.0.1:{}/", server->port())});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->exit_status, 0) << r->err;
  std::ifstream in(png, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 24U) << r->err;
  EXPECT_EQ(bytes.substr(0, 8), "\x89PNG\r\n\x1a\n");
  // IHDR: width and height, big-endian, at offsets 16 and 20.
  const auto be32 = [&](std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
  };
  EXPECT_EQ(be32(16), 1280U);
  EXPECT_EQ(be32(20), 900U);
  if (const char* out = std::getenv("DRCTL_SCREENSHOT_OUT"); out != nullptr && *out != '\0') {
    std::filesystem::copy_file(png, out, std::filesystem::copy_options::overwrite_existing);
  }
}

}  // namespace
}  // namespace drctl::daemon
