#include "common/shared_library.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace drctl {
namespace {

constexpr SharedLibrarySpec kLibm{.name = "libm",
                                  .soname = "libm.so.6",
                                  .override_env = "DRCTL_TEST_LIBM",
                                  .package = "libc6",
                                  .needed_for = "tests"};
constexpr SharedLibrarySpec kMissing{.name = "libdrctl-missing",
                                     .soname = "libdrctl-missing.so.7",
                                     .override_env = "DRCTL_TEST_LIBMISSING",
                                     .package = "drctl-missing7",
                                     .needed_for = "nothing"};

// Sets an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(SharedLibrary, OpensBySonameAndBindsFunctions) {
  auto lib = SharedLibrary::Open(kLibm);
  ASSERT_TRUE(lib.has_value()) << lib.error().ToString();
  EXPECT_EQ(lib->location(), "libm.so.6");
  double (*cos_fn)(double) = nullptr;
  ASSERT_TRUE(lib->Bind("cos", cos_fn).has_value());
  EXPECT_EQ(cos_fn(0.0), 1.0);
}

TEST(SharedLibrary, MissingLibraryIsUnsupportedNamingItAndThePackage) {
  auto lib = SharedLibrary::Open(kMissing);
  ASSERT_FALSE(lib.has_value());
  EXPECT_EQ(lib.error().code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(Contains(lib.error().message(),
                       "cannot load libdrctl-missing (libdrctl-missing.so.7): "
                       "libdrctl-missing.so.7: cannot open shared object file"))
      << lib.error().message();
  EXPECT_EQ(lib.error().hint(),
            "drctl needs libdrctl-missing (libdrctl-missing.so.7) for nothing: install Debian's "
            "drctl-missing7 package (apt-get install drctl-missing7)");
}

TEST(SharedLibrary, MissingSymbolIsUnsupportedNamingIt) {
  auto lib = SharedLibrary::Open(kLibm);
  ASSERT_TRUE(lib.has_value());
  void (*fn)() = nullptr;
  auto bound = lib->Bind("drctl_no_such_function", fn);
  ASSERT_FALSE(bound.has_value());
  EXPECT_EQ(bound.error().code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(Contains(bound.error().message(),
                       "libm at libm.so.6 has no function drctl_no_such_function: "))
      << bound.error().message();
  EXPECT_TRUE(bound.error().hint().starts_with("it is not the libm.so.6 drctl was built for;"))
      << bound.error().hint();
  EXPECT_EQ(fn, nullptr);
}

TEST(SharedLibrary, EnvironmentOverridesTheSoname) {
  const ScopedEnv env("DRCTL_TEST_LIBMISSING", "libm.so.6");
  auto lib = SharedLibrary::Open(kMissing);
  ASSERT_TRUE(lib.has_value()) << lib.error().ToString();
  EXPECT_EQ(lib->location(), "libm.so.6");
}

TEST(SharedLibrary, EmptyOverrideIsIgnored) {
  const ScopedEnv env("DRCTL_TEST_LIBM", "");
  auto lib = SharedLibrary::Open(kLibm);
  ASSERT_TRUE(lib.has_value()) << lib.error().ToString();
  EXPECT_EQ(lib->location(), "libm.so.6");
}

TEST(SharedLibrary, BrokenOverrideNamesTheVariable) {
  const ScopedEnv env("DRCTL_TEST_LIBM", "/nonexistent/libm.so.6");
  auto lib = SharedLibrary::Open(kLibm);
  ASSERT_FALSE(lib.has_value());
  EXPECT_EQ(lib.error().code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(Contains(lib.error().message(),
                       "cannot load libm from /nonexistent/libm.so.6 (set by DRCTL_TEST_LIBM): "
                       "/nonexistent/libm.so.6: cannot open shared object file"))
      << lib.error().message();
  EXPECT_TRUE(lib.error().hint().starts_with(
      "unset DRCTL_TEST_LIBM or point it at a working libm.so.6; drctl needs libm"))
      << lib.error().hint();
}

TEST(SharedLibraryDeathTest, CallBeforeLoadAborts) {
  EXPECT_DEATH(AbortNotLoaded("curl_easy_init", "LoadCurl()"),
               "drctl: internal error: curl_easy_init called before LoadCurl\\(\\)");
}

}  // namespace
}  // namespace drctl
