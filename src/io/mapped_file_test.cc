#include "io/mapped_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/temp_dir.h"

namespace drctl::io {
namespace {

TEST(MappedFileTest, MapsTheWholeFileAndSurvivesAMove) {
  auto dir = TempDir::Create("drctl-mapped-");
  ASSERT_TRUE(dir.has_value());
  const auto path = dir->path() / "segment";
  std::string content(3U << 20, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 % 251);
  std::ofstream(path, std::ios::binary) << content;
  auto mapped = MappedFile::Open(path, "hint");
  ASSERT_TRUE(mapped.has_value()) << mapped.error().ToString();
  MappedFile moved = std::move(*mapped);
  EXPECT_EQ(moved.bytes(), content);
  // The mapping outlives the name: PostgreSQL may rename the file once it is archived.
  std::filesystem::remove(path);
  EXPECT_EQ(moved.bytes().substr(content.size() - 10), content.substr(content.size() - 10));
}

TEST(MappedFileTest, EmptyMissingAndNonRegularFiles) {
  auto dir = TempDir::Create("drctl-mapped-");
  ASSERT_TRUE(dir.has_value());
  { const std::ofstream created(dir->path() / "empty"); }
  auto empty = MappedFile::Open(dir->path() / "empty", "hint");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->bytes().empty());
  auto missing = MappedFile::Open(dir->path() / "missing", "do this");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("missing"), std::string::npos);
  EXPECT_EQ(missing.error().hint(), "do this");
  auto directory = MappedFile::Open(dir->path(), "hint");
  ASSERT_FALSE(directory.has_value());
  EXPECT_EQ(directory.error().code(), ErrorCode::kIo);
  EXPECT_NE(directory.error().message().find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace drctl::io
