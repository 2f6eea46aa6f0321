#include "storage/curl_library.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <string>

namespace drctl::storage {
namespace {

std::size_t Append(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

TEST(CurlLibrary, LoadsOnceAndForwardsEveryKindOfArgument) {
  ASSERT_TRUE(LoadCurl().has_value()) << LoadCurl().error().ToString();
  ASSERT_TRUE(LoadCurl().has_value());
  ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
  EXPECT_STREQ(curl_easy_strerror(CURLE_OK), "No error");

  CURL* curl = curl_easy_init();
  ASSERT_NE(curl, nullptr);
  curl_slist* headers = curl_slist_append(nullptr, "X-Test: 1");
  ASSERT_NE(headers, nullptr);
  std::string body;
  // One option of each argument type: long, object pointer, function pointer, curl_off_t.
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_URL, "file:///dev/null"), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t{1} << 20), CURLE_OK);
  // Values libcurl rejects reach it intact: the answers are libcurl's.
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_MAXREDIRS, -2L), CURLE_BAD_FUNCTION_ARGUMENT);
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t{-1}),
            CURLE_BAD_FUNCTION_ARGUMENT);
  EXPECT_EQ(curl_easy_perform(curl), CURLE_OK);
  EXPECT_EQ(body, "");
  char* url = nullptr;
  EXPECT_EQ(curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &url), CURLE_OK);
  EXPECT_STREQ(url, "file:///dev/null");
  long code = -1;  // NOLINT(google-runtime-int): curl's type
  EXPECT_EQ(curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
  EXPECT_EQ(code, 0);
  curl_easy_reset(curl);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
}

// "threadsafe" death tests run the test in a fresh process: nothing is loaded there yet.
TEST(CurlLibraryDeathTest, CallBeforeLoadAbortsNamingTheFunction) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((void)curl_easy_init(),
               "drctl: internal error: curl_easy_init called before "
               "drctl::storage::LoadCurl\\(\\)");
}

}  // namespace
}  // namespace drctl::storage
