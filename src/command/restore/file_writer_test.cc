#include "command/restore/file_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.h"

namespace drctl::command {
namespace {

std::string Pattern(std::size_t size, char seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>(seed + static_cast<char>(i % 251));
  return s;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Whether this directory's filesystem takes O_DIRECT (tmpfs does not).
bool SupportsDirect(const std::filesystem::path& dir) {
  const auto probe = dir / "probe";
  const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
  std::filesystem::remove(probe);
  return fd >= 0;
}

// Chunks of 64 KiB written out of order by two threads, a file whose tail is not a whole page:
// the file has exactly the bytes, size and mode asked for, whichever path each part took.
void WriteAndCheck(const std::filesystem::path& dir, bool direct) {
  constexpr std::size_t kChunk = std::size_t{64} * 1024;
  const std::size_t size = (5 * kChunk) + 4096 + 123;
  const std::string content = Pattern(size, 'a');
  const auto path = dir / "file";
  auto writer = FileWriter::Create(path.string(), 0640, size, /*keep=*/false, direct);
  ASSERT_TRUE(writer.has_value()) << writer.error().ToString();
  EXPECT_EQ(writer->direct(), direct && SupportsDirect(dir));
  std::vector<std::size_t> offsets;
  for (std::size_t o = 0; o < size; o += kChunk) offsets.push_back(o);
  auto write = [&](std::size_t first) {
    for (std::size_t i = first; i < offsets.size(); i += 2) {
      const std::size_t o = offsets[offsets.size() - 1 - i];
      const auto part = std::string_view(content).substr(o, std::min(kChunk, size - o));
      ASSERT_TRUE(writer->Write(part, o).has_value());
    }
  };
  std::thread other(write, 1);
  write(0);
  other.join();
  writer = FileWriter::Create((dir / "unused").string(), 0600, 0, false, direct);  // closes it
  EXPECT_EQ(ReadAll(path), content);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640U);
}

TEST(FileWriter, WritesWholePagesDirectAndTheTailThroughThePageCache) {
  auto dir = TempDir::Create("drctl-file-writer-");
  ASSERT_TRUE(dir.has_value());
  WriteAndCheck(dir->path(), /*direct=*/true);
}

TEST(FileWriter, BufferedOnly) {
  auto dir = TempDir::Create("drctl-file-writer-");
  ASSERT_TRUE(dir.has_value());
  WriteAndCheck(dir->path(), /*direct=*/false);
}

TEST(FileWriter, FallsBackWhereTheFilesystemHasNoDirectIo) {
  // /dev/shm is tmpfs: O_DIRECT is refused there, every byte goes through the page cache.
  std::error_code ec;
  if (!std::filesystem::is_directory("/dev/shm", ec)) GTEST_SKIP() << "no /dev/shm";
  const auto dir = std::filesystem::path("/dev/shm") / ("drctl-fw-" + std::to_string(getpid()));
  std::filesystem::create_directory(dir);
  WriteAndCheck(dir, /*direct=*/true);
  std::filesystem::remove_all(dir);
}

TEST(FileWriter, KeepLeavesExistingBytesAndCutsToSize) {
  auto dir = TempDir::Create("drctl-file-writer-");
  ASSERT_TRUE(dir.has_value());
  const auto path = dir->path() / "file";
  std::ofstream(path, std::ios::binary) << Pattern(std::size_t{3} * 8192, 'x');
  auto writer =
      FileWriter::Create(path.string(), 0600, std::uint64_t{2} * 8192, /*keep=*/true, true);
  ASSERT_TRUE(writer.has_value());
  const std::string second = Pattern(8192, 'k');
  ASSERT_TRUE(writer->Write(second, 8192).has_value());
  const std::string expected = Pattern(std::size_t{3} * 8192, 'x').substr(0, 8192) + second;
  writer = FileWriter::Create((dir->path() / "unused").string(), 0600, 0, false, false);
  EXPECT_EQ(ReadAll(path), expected);
}

TEST(FileWriter, CreateNamesTheFileItCannotMake) {
  auto writer = FileWriter::Create("/nonexistent-dir/file", 0600, 10, false, true);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code(), ErrorCode::kIo);
  EXPECT_NE(writer.error().message().find("/nonexistent-dir/file"), std::string::npos);
}

}  // namespace
}  // namespace drctl::command
