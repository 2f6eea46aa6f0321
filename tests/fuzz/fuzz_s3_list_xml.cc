// The S3 response parsers on arbitrary bytes: never crash, never hang; every rejection is
// kCorrupt, and what is accepted keeps the parsers' promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/markup.h"
#include "storage/s3/list_xml.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

template <typename T>
void CheckCorruptIfFailed(const drctl::Result<T>& result) {
  if (!result) Check(result.error().code() == drctl::ErrorCode::kCorrupt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace s3 = drctl::storage::s3;
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  auto page = s3::ParseListObjectsV2(body);
  CheckCorruptIfFailed(page);
  if (page) {
    Check(!page->truncated || !page->next_continuation_token.empty());
    for (const auto& object : page->objects) Check(!object.key.empty());
  }
  auto error = s3::ParseErrorBody(body);
  CheckCorruptIfFailed(error);
  if (error) Check(!error->code.empty());
  auto upload = s3::ParseInitiateMultipartUpload(body);
  CheckCorruptIfFailed(upload);
  if (upload) Check(!upload->empty());
  CheckCorruptIfFailed(s3::ParseCompleteMultipartUpload(body));
  CheckCorruptIfFailed(s3::ParseDeleteResult(body));
  CheckCorruptIfFailed(s3::ParseIso8601(body));
  CheckCorruptIfFailed(s3::ParseHttpDate(body));

  // Escaping then parsing gives the text back.
  const std::string escaped = "<Key>" + drctl::EscapeMarkup(body) + "</Key>";
  auto key = s3::ParseXml(escaped, "fuzz");
  if (key) Check(key->text == body);
  return 0;
}
