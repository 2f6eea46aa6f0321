#include "storage/s3/list_xml.h"

#include "common/markup.h"

#include <gtest/gtest.h>

namespace drctl::storage::s3 {
namespace {

constexpr std::string_view kTwoObjectsTruncated = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix>repo/</Prefix>
  <KeyCount>2</KeyCount>
  <MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>cmVwby9i</NextContinuationToken>
  <Contents>
    <Key>repo/a &amp; b &lt;&gt;&quot;&apos; &#252;&#xFC;.bin</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
    <Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents><Key>repo/b</Key><LastModified>2024-02-29T23:59:59Z</LastModified><Size>0</Size></Contents>
</ListBucketResult>
)";

TEST(ParseListObjectsV2, ReadsKeysSizesTimesAndTheContinuationToken) {
  auto page = ParseListObjectsV2(kTwoObjectsTruncated);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "cmVwby9i");
  ASSERT_EQ(page->objects.size(), 2U);
  EXPECT_EQ(page->objects[0].key, "repo/a & b <>\"' \xc3\xbc\xc3\xbc.bin");
  EXPECT_EQ(page->objects[0].size, 434234U);
  EXPECT_EQ(page->objects[0].mtime, 1255369830);
  EXPECT_EQ(page->objects[1].key, "repo/b");
  EXPECT_EQ(page->objects[1].size, 0U);
  EXPECT_EQ(page->objects[1].mtime, 1709251199);
}

TEST(ParseListObjectsV2, LastPageAndEmptyListing) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_FALSE(page->truncated);
  EXPECT_TRUE(page->objects.empty());
  EXPECT_EQ(page->next_continuation_token, "");
}

TEST(ParseListObjectsV2, KeepsSpacesOfKeysAndReadsCdata) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key> a<![CDATA[<b>&]]> </Key>"
      "<Size>1</Size><LastModified>1970-01-01T00:00:00.5Z</LastModified></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  ASSERT_EQ(page->objects.size(), 1U);
  EXPECT_EQ(page->objects[0].key, " a<b>& ");
  EXPECT_EQ(page->objects[0].mtime, 0);
}

// Each malformed listing is refused with kCorrupt and a message that says what was wrong.
struct BadListing {
  const char* name;
  std::string_view body;
  std::string_view message_part;
};

class ParseListObjectsV2Refuses : public ::testing::TestWithParam<BadListing> {};

TEST_P(ParseListObjectsV2Refuses, WithKCorruptNamingTheProblem) {
  auto page = ParseListObjectsV2(GetParam().body);
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(page.error().message().find(GetParam().message_part), std::string::npos)
      << page.error().message();
  EXPECT_NE(page.error().message().find("ListObjectsV2 response"), std::string::npos)
      << page.error().message();
}

const BadListing kBadListings[] = {
    {"Empty", "", "no root element"},
    {"OnlyWhitespace", "  \n", "no root element"},
    {"TextBeforeRoot", "x<ListBucketResult/>", "text before the root element"},
    {"WrongRoot", "<Error><Code>X</Code></Error>", "root element is <Error>"},
    {"MissingIsTruncated", "<ListBucketResult></ListBucketResult>", "has no <IsTruncated>"},
    {"BadIsTruncated", "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
     "<IsTruncated> is \"yes\""},
    {"TruncatedWithoutToken",
     "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
     "without <NextContinuationToken>"},
    {"MissingKey",
     "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Size>1</Size>"
     "<LastModified>2009-10-12T17:50:30Z</LastModified></Contents></ListBucketResult>",
     "<Contents> has no <Key>"},
    {"EmptyKey",
     "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key></Key><Size>1</Size>"
     "<LastModified>2009-10-12T17:50:30Z</LastModified></Contents></ListBucketResult>",
     "empty <Key>"},
    {"MissingSize",
     "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
     "<LastModified>2009-10-12T17:50:30Z</LastModified></Contents></ListBucketResult>",
     "<Contents> has no <Size>"},
    {"NegativeSize",
     "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>-1</Size>"
     "<LastModified>2009-10-12T17:50:30Z</LastModified></Contents></ListBucketResult>",
     "size \"-1\" is not a number"},
    {"HugeSize",
     "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
     "<Size>99999999999999999999</Size><LastModified>2009-10-12T17:50:30Z</LastModified>"
     "</Contents></ListBucketResult>",
     "is not a number"},
    {"BadTime",
     "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size>"
     "<LastModified>2009-13-12T17:50:30Z</LastModified></Contents></ListBucketResult>",
     "malformed time \"2009-13-12T17:50:30Z\""},
    {"MismatchedEndTag", "<ListBucketResult><IsTruncated>false</IsTrunc></ListBucketResult>",
     "end tag </IsTrunc> does not close <IsTruncated>"},
    {"MissingEndTag", "<ListBucketResult><IsTruncated>false</IsTruncated>",
     "missing end tag </ListBucketResult>"},
    {"UnknownEntity", "<ListBucketResult>&nbsp;</ListBucketResult>", "unknown entity &nbsp;"},
    {"UnterminatedEntity", "<ListBucketResult>&amp</ListBucketResult>", "unterminated entity"},
    {"CharRefZero", "<ListBucketResult>&#0;</ListBucketResult>", "invalid character reference"},
    {"CharRefSurrogate", "<ListBucketResult>&#xD800;</ListBucketResult>",
     "invalid character reference &#xD800;"},
    {"CharRefTooLarge", "<ListBucketResult>&#x110000;</ListBucketResult>",
     "invalid character reference"},
    {"CharRefNotANumber", "<ListBucketResult>&#12a;</ListBucketResult>",
     "invalid character reference"},
    {"CharRefEmpty", "<ListBucketResult>&#x;</ListBucketResult>", "invalid character reference"},
    {"Doctype", "<!DOCTYPE x [<!ENTITY a 'b'>]><ListBucketResult/>", "DOCTYPE"},
    {"ContentAfterRoot", "<ListBucketResult/><x/>", "content after the root element"},
    {"UnterminatedComment", "<!-- <ListBucketResult/>", "unterminated comment"},
    {"UnquotedAttribute", "<ListBucketResult a=b/>", "expected a quoted attribute value"},
    {"AttributeWithoutSpace", "<ListBucketResult a='1'b='2'/>",
     "expected whitespace before an attribute"},
    {"LessThanInAttribute", "<ListBucketResult a='<'/>", "'<' in an attribute value"},
    {"UnterminatedStartTag", "<ListBucketResult", "unterminated start tag"},
    {"UnterminatedCdata", "<ListBucketResult><![CDATA[x</ListBucketResult>",
     "unterminated CDATA section"},
    {"BadName", "<1ListBucketResult/>", "expected a name"},
};

INSTANTIATE_TEST_SUITE_P(Malformed, ParseListObjectsV2Refuses, ::testing::ValuesIn(kBadListings),
                         [](const ::testing::TestParamInfo<BadListing>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(ParseXml, RefusesNestingDeeperThanTheLimit) {
  std::string deep;
  for (int i = 0; i < kMaxXmlDepth + 1; ++i) deep += "<a>";
  for (int i = 0; i < kMaxXmlDepth + 1; ++i) deep += "</a>";
  auto doc = ParseXml(deep, "test document");
  ASSERT_FALSE(doc.has_value());
  EXPECT_EQ(doc.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(doc.error().message().find("malformed XML in test document: elements nested too "
                                       "deeply"),
            std::string::npos)
      << doc.error().message();
  const std::string ok = deep.substr(3, deep.size() - 7);
  EXPECT_TRUE(ParseXml(ok, "test document").has_value());
}

TEST(ParseXml, SkipsCommentsAndProcessingInstructionsAndReadsEveryEntity) {
  auto doc = ParseXml(
      "\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><r x = \"&amp;\">"
      "<!-- inside -->&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x10348;<?pi x?><e/></r><!-- end -->\n",
      "doc");
  ASSERT_TRUE(doc.has_value()) << doc.error().ToString();
  EXPECT_EQ(doc->name, "r");
  EXPECT_EQ(doc->text, "<>&\"'AB\xF0\x90\x8D\x88");
  ASSERT_EQ(doc->children.size(), 1U);
  EXPECT_EQ(doc->children[0].name, "e");
  EXPECT_EQ(doc->Child("e"), doc->children.data());
  EXPECT_EQ(doc->Child("f"), nullptr);
}

TEST(ParseErrorBody, ReadsCodeAndMessage) {
  auto error = ParseErrorBody(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
      "<Message>The request signature we calculated does not match</Message>"
      "<RequestId>tx1</RequestId></Error>");
  ASSERT_TRUE(error.has_value()) << error.error().ToString();
  EXPECT_EQ(error->code, "SignatureDoesNotMatch");
  EXPECT_EQ(error->message, "The request signature we calculated does not match");
}

TEST(ParseErrorBody, MessageIsOptionalCodeIsNot) {
  auto error = ParseErrorBody("<Error><Code>NoSuchKey</Code></Error>");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "NoSuchKey");
  EXPECT_EQ(error->message, "");
  auto no_code = ParseErrorBody("<Error><Message>m</Message></Error>");
  ASSERT_FALSE(no_code.has_value());
  EXPECT_EQ(no_code.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(no_code.error().message(), "malformed S3 error response: <Error> has no <Code>");
  auto html = ParseErrorBody("<html><body>502 Bad Gateway</body></html>");
  ASSERT_FALSE(html.has_value());
  EXPECT_EQ(html.error().message(),
            "malformed S3 error response: root element is <html>, expected <Error>");
}

TEST(ParseInitiateMultipartUpload, ReadsTheUploadId) {
  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Bucket>b</Bucket><Key>k</Key><UploadId>YWJj&amp;ZGVm</UploadId>"
      "</InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(*id, "YWJj&ZGVm");
  auto empty = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult><UploadId/></InitiateMultipartUploadResult>");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(empty.error().message(),
            "malformed InitiateMultipartUpload response: empty <UploadId>");
}

TEST(ParseCompleteMultipartUpload, SuccessOrTheErrorInsideA200) {
  auto ok = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_FALSE(ok->has_value());
  auto failed = ParseCompleteMultipartUpload(
      "<Error><Code>InternalError</Code><Message>try again</Message></Error>");
  ASSERT_TRUE(failed.has_value()) << failed.error().ToString();
  const std::optional<S3ErrorBody> embedded = *failed;
  ASSERT_TRUE(embedded.has_value());
  EXPECT_EQ(embedded.value_or(S3ErrorBody{}).code, "InternalError");
  EXPECT_EQ(embedded.value_or(S3ErrorBody{}).message, "try again");
  auto other = ParseCompleteMultipartUpload("<Other/>");
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), ErrorCode::kCorrupt);
}

TEST(ParseDeleteResult, ListsTheKeysThatFailed) {
  auto failures = ParseDeleteResult(
      "<DeleteResult><Deleted><Key>a</Key></Deleted>"
      "<Error><Key>b&amp;c</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
      "<Error><Key>d</Key><Code>InternalError</Code></Error></DeleteResult>");
  ASSERT_TRUE(failures.has_value()) << failures.error().ToString();
  ASSERT_EQ(failures->size(), 2U);
  EXPECT_EQ((*failures)[0].key, "b&c");
  EXPECT_EQ((*failures)[0].code, "AccessDenied");
  EXPECT_EQ((*failures)[0].message, "Access Denied");
  EXPECT_EQ((*failures)[1].key, "d");
  EXPECT_EQ((*failures)[1].message, "");
  auto none = ParseDeleteResult("<DeleteResult/>");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  auto bad = ParseDeleteResult("<DeleteResult><Error><Key>b</Key></Error></DeleteResult>");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "malformed DeleteObjects response: <Error> has no <Code>");
}

TEST(ParseIso8601, ReadsUtcTimesWithOrWithoutFraction) {
  EXPECT_EQ(ParseIso8601("2009-10-12T17:50:30.000Z").value(), 1255369830);
  EXPECT_EQ(ParseIso8601("2009-10-12T17:50:30Z").value(), 1255369830);
  EXPECT_EQ(ParseIso8601("2009-10-12T17:50:30.123456Z").value(), 1255369830);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00Z").value(), 0);
  for (const char* bad :
       {"", "2009-10-12T17:50:30", "2009-10-12 17:50:30Z", "2009-10-12T17:50:30.Z",
        "2009-10-12T17:50:30.1xZ", "2009-02-30T00:00:00Z", "2009-10-12T24:00:00Z",
        "2009-1a-12T17:50:30Z", "2009-10-12T17:50:30+00:00"}) {
    auto t = ParseIso8601(bad);
    ASSERT_FALSE(t.has_value()) << bad;
    EXPECT_EQ(t.error().code(), ErrorCode::kCorrupt) << bad;
    EXPECT_EQ(t.error().message(), "malformed time \"" + std::string(bad) + "\"");
  }
}

TEST(ParseHttpDate, ReadsImfFixdate) {
  EXPECT_EQ(ParseHttpDate("Mon, 12 Oct 2009 17:50:30 GMT").value(), 1255369830);
  EXPECT_EQ(ParseHttpDate("Thu, 29 Feb 2024 23:59:59 GMT").value(), 1709251199);
  for (const char* bad : {"", "Mon, 12 Oct 2009 17:50:30 UTC", "Mon, 12 Foo 2009 17:50:30 GMT",
                          "Monday, 12-Oct-09 17:50:30 GMT", "Mon, 32 Oct 2009 17:50:30 GMT",
                          "Mon Oct 12 17:50:30 2009"}) {
    auto t = ParseHttpDate(bad);
    ASSERT_FALSE(t.has_value()) << bad;
    EXPECT_EQ(t.error().code(), ErrorCode::kCorrupt) << bad;
  }
}

TEST(XmlEscape, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(EscapeMarkup("a&b<c>d\"e'f \xc3\xbc"), "a&amp;b&lt;c&gt;d&quot;e&#39;f \xc3\xbc");
  auto round_trip = ParseXml("<Key>" + EscapeMarkup("<&'\">") + "</Key>", "doc");
  ASSERT_TRUE(round_trip.has_value());
  EXPECT_EQ(round_trip->text, "<&'\">");
}

}  // namespace
}  // namespace drctl::storage::s3
