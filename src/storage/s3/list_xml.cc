#include "storage/s3/list_xml.h"

#include <algorithm>
#include <charconv>
#include <chrono>

namespace drctl::storage::s3 {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsNameStart(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || u >= 0x80;
}

bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

void AppendUtf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A recursive-descent reader over the whole document; `pos_` only moves forward.
class XmlReader {
 public:
  XmlReader(std::string_view doc, std::string_view what) : doc_(doc), what_(what) {}

  Result<XmlElement> Document() {
    if (doc_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
    DRCTL_TRY(SkipMisc());
    if (AtEnd()) return Bad("no root element");
    if (doc_[pos_] != '<') return Bad("text before the root element");
    XmlElement root;
    DRCTL_TRY(Element(root, 1));
    DRCTL_TRY(SkipMisc());
    if (!AtEnd()) return Bad("content after the root element");
    return root;
  }

 private:
  bool AtEnd() const { return pos_ >= doc_.size(); }
  bool LookingAt(std::string_view s) const { return doc_.substr(pos_).starts_with(s); }

  std::unexpected<Error> Bad(std::string_view why) const {
    return Fail(ErrorCode::kCorrupt,
                "malformed XML in " + std::string(what_) + ": " + std::string(why) + " at byte " +
                    std::to_string(pos_),
                "the server's answer is not valid S3 XML: check the endpoint is an S3 service");
  }

  void SkipSpace() {
    while (!AtEnd() && IsSpace(doc_[pos_])) ++pos_;
  }

  // Skips up to and including `terminator`.
  Status SkipPast(std::string_view terminator, std::string_view construct) {
    const auto end = doc_.find(terminator, pos_);
    if (end == std::string_view::npos) return Bad("unterminated " + std::string(construct));
    pos_ = end + terminator.size();
    return Ok();
  }

  // Whitespace, comments and processing instructions (the XML declaration is one).
  Status SkipMisc() {
    for (;;) {
      SkipSpace();
      if (LookingAt("<!--")) {
        DRCTL_TRY(SkipPast("-->", "comment"));
      } else if (LookingAt("<?")) {
        DRCTL_TRY(SkipPast("?>", "processing instruction"));
      } else if (LookingAt("<!")) {
        return Bad("DOCTYPE or other declaration (not accepted)");
      } else {
        return Ok();
      }
    }
  }

  Result<std::string> Name() {
    if (AtEnd() || !IsNameStart(doc_[pos_])) return Bad("expected a name");
    const std::size_t start = pos_;
    while (!AtEnd() && IsNameChar(doc_[pos_])) ++pos_;
    return std::string(doc_.substr(start, pos_ - start));
  }

  // After '&': one entity or character reference, appended to `out`.
  Status Reference(std::string& out) {
    const auto semi = doc_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return Bad("unterminated entity");
    const std::string_view ref = doc_.substr(pos_, semi - pos_);
    if (ref == "amp") {
      out += '&';
    } else if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (ref.starts_with('#')) {
      const bool hex = ref.size() > 1 && ref[1] == 'x';
      const std::string_view digits = ref.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      const auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || cp == 0 ||
          cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return Bad("invalid character reference &" + std::string(ref) + ";");
      }
      AppendUtf8(cp, out);
    } else {
      return Bad("unknown entity &" + std::string(ref.substr(0, 12)) + ";");
    }
    pos_ = semi + 1;
    return Ok();
  }

  // Attributes up to '>' or "/>"; returns true for an empty element ("/>").
  Result<bool> Attributes() {
    for (;;) {
      const std::size_t before = pos_;
      SkipSpace();
      if (AtEnd()) return Bad("unterminated start tag");
      if (LookingAt("/>")) {
        pos_ += 2;
        return true;
      }
      if (doc_[pos_] == '>') {
        ++pos_;
        return false;
      }
      if (pos_ == before) return Bad("expected whitespace before an attribute");
      DRCTL_TRY(Name());
      SkipSpace();
      if (AtEnd() || doc_[pos_] != '=') return Bad("expected '=' after an attribute name");
      ++pos_;
      SkipSpace();
      if (AtEnd() || (doc_[pos_] != '"' && doc_[pos_] != '\'')) {
        return Bad("expected a quoted attribute value");
      }
      const char quote = doc_[pos_++];
      std::string ignored;
      while (!AtEnd() && doc_[pos_] != quote) {
        if (doc_[pos_] == '<') return Bad("'<' in an attribute value");
        if (doc_[pos_++] == '&') DRCTL_TRY(Reference(ignored));
      }
      if (AtEnd()) return Bad("unterminated attribute value");
      ++pos_;
    }
  }

  // At '<' of a start tag.
  Status Element(XmlElement& out, int depth) {
    if (depth > kMaxXmlDepth) return Bad("elements nested too deeply");
    ++pos_;
    auto name = Name();
    if (!name) return std::unexpected(name.error());
    out.name = std::move(*name);
    auto empty = Attributes();
    if (!empty) return std::unexpected(empty.error());
    if (*empty) return Ok();
    return Content(out, depth);
  }

  // Everything up to and including the end tag of `out`.
  Status Content(XmlElement& out, int depth) {
    for (;;) {
      if (AtEnd()) return Bad("missing end tag </" + out.name + ">");
      const char c = doc_[pos_];
      if (c == '&') {
        ++pos_;
        DRCTL_TRY(Reference(out.text));
      } else if (c != '<') {
        const auto next = std::min(doc_.find_first_of("<&", pos_), doc_.size());
        out.text += doc_.substr(pos_, next - pos_);
        pos_ = next;
      } else if (LookingAt("</")) {
        pos_ += 2;
        auto name = Name();
        if (!name) return std::unexpected(name.error());
        if (*name != out.name)
          return Bad("end tag </" + *name + "> does not close <" + out.name + ">");
        SkipSpace();
        if (AtEnd() || doc_[pos_] != '>') return Bad("unterminated end tag");
        ++pos_;
        return Ok();
      } else if (LookingAt("<![CDATA[")) {
        pos_ += 9;
        const auto end = doc_.find("]]>", pos_);
        if (end == std::string_view::npos) return Bad("unterminated CDATA section");
        out.text += doc_.substr(pos_, end - pos_);
        pos_ = end + 3;
      } else if (LookingAt("<!--")) {
        DRCTL_TRY(SkipPast("-->", "comment"));
      } else if (LookingAt("<?")) {
        DRCTL_TRY(SkipPast("?>", "processing instruction"));
      } else if (LookingAt("<!")) {
        return Bad("declaration inside an element");
      } else {
        out.children.emplace_back();
        DRCTL_TRY(Element(out.children.back(), depth + 1));
      }
    }
  }

  std::string_view doc_;
  std::string_view what_;
  std::size_t pos_ = 0;
};

std::unexpected<Error> Malformed(std::string_view what, std::string_view why) {
  return Fail(ErrorCode::kCorrupt, "malformed " + std::string(what) + ": " + std::string(why),
              "the server's answer is not valid S3 XML: check the endpoint is an S3 service");
}

Status ExpectRoot(const XmlElement& root, std::string_view name, std::string_view what) {
  if (root.name == name) return Ok();
  return Malformed(what,
                   "root element is <" + root.name + ">, expected <" + std::string(name) + ">");
}

Result<std::string> RequiredText(const XmlElement& parent, std::string_view child,
                                 std::string_view what) {
  const XmlElement* e = parent.Child(child);
  if (e == nullptr) {
    return Malformed(what, "<" + parent.name + "> has no <" + std::string(child) + ">");
  }
  return e->text;
}

std::string OptionalText(const XmlElement& parent, std::string_view child) {
  const XmlElement* e = parent.Child(child);
  return e == nullptr ? std::string() : e->text;
}

Result<std::uint64_t> ParseSize(std::string_view text, std::string_view what) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Malformed(what, "size \"" + std::string(text.substr(0, 32)) + "\" is not a number");
  }
  return value;
}

Result<ObjectInfo> ParseContents(const XmlElement& contents, std::string_view what) {
  ObjectInfo info;
  auto key = RequiredText(contents, "Key", what);
  if (!key) return std::unexpected(key.error());
  if (key->empty()) return Malformed(what, "empty <Key>");
  info.key = std::move(*key);
  auto size_text = RequiredText(contents, "Size", what);
  if (!size_text) return std::unexpected(size_text.error());
  auto size = ParseSize(*size_text, what);
  if (!size) return std::unexpected(size.error().WithContext("key \"" + info.key + "\""));
  info.size = *size;
  auto modified = RequiredText(contents, "LastModified", what);
  if (!modified) return std::unexpected(modified.error());
  auto mtime = ParseIso8601(*modified);
  if (!mtime) return std::unexpected(mtime.error().WithContext(std::string(what)));
  info.mtime = *mtime;
  return info;
}

// Digits at text[pos, pos+n) as a number, or -1.
int Digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

Result<std::int64_t> CivilToEpoch(int y, int mo, int d, int h, int mi, int s,
                                  std::string_view text) {
  const std::chrono::year_month_day ymd{std::chrono::year(y),
                                        std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (y < 0 || mo < 0 || d < 0 || !ymd.ok() || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 ||
      s > 60) {
    return Fail(ErrorCode::kCorrupt, "malformed time \"" + std::string(text.substr(0, 40)) + "\"",
                "the server's answer is not a valid S3 time");
  }
  const auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return static_cast<std::int64_t>(days) * 86400 + std::int64_t{h} * 3600 + std::int64_t{mi} * 60 +
         s;
}

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

Result<XmlElement> ParseXml(std::string_view document, std::string_view what) {
  return XmlReader(document, what).Document();
}

Result<ListPage> ParseListObjectsV2(std::string_view body) {
  constexpr std::string_view kWhat = "ListObjectsV2 response";
  auto root = ParseXml(body, kWhat);
  if (!root) return std::unexpected(root.error());
  DRCTL_TRY(ExpectRoot(*root, "ListBucketResult", kWhat));
  ListPage page;
  auto truncated = RequiredText(*root, "IsTruncated", kWhat);
  if (!truncated) return std::unexpected(truncated.error());
  if (*truncated != "true" && *truncated != "false") {
    return Malformed(kWhat, "<IsTruncated> is \"" + truncated->substr(0, 16) + "\"");
  }
  page.truncated = *truncated == "true";
  if (page.truncated) {
    page.next_continuation_token = OptionalText(*root, "NextContinuationToken");
    if (page.next_continuation_token.empty()) {
      return Malformed(kWhat, "truncated page without <NextContinuationToken>");
    }
  }
  for (const auto& child : root->children) {
    if (child.name != "Contents") continue;
    auto info = ParseContents(child, kWhat);
    if (!info) return std::unexpected(info.error());
    page.objects.push_back(std::move(*info));
  }
  return page;
}

Result<S3ErrorBody> ParseErrorBody(std::string_view body) {
  constexpr std::string_view kWhat = "S3 error response";
  auto root = ParseXml(body, kWhat);
  if (!root) return std::unexpected(root.error());
  DRCTL_TRY(ExpectRoot(*root, "Error", kWhat));
  S3ErrorBody out;
  auto code = RequiredText(*root, "Code", kWhat);
  if (!code) return std::unexpected(code.error());
  if (code->empty()) return Malformed(kWhat, "empty <Code>");
  out.code = std::move(*code);
  out.message = OptionalText(*root, "Message");
  return out;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  constexpr std::string_view kWhat = "InitiateMultipartUpload response";
  auto root = ParseXml(body, kWhat);
  if (!root) return std::unexpected(root.error());
  DRCTL_TRY(ExpectRoot(*root, "InitiateMultipartUploadResult", kWhat));
  auto id = RequiredText(*root, "UploadId", kWhat);
  if (!id) return std::unexpected(id.error());
  if (id->empty()) return Malformed(kWhat, "empty <UploadId>");
  return id;
}

Result<std::optional<S3ErrorBody>> ParseCompleteMultipartUpload(std::string_view body) {
  constexpr std::string_view kWhat = "CompleteMultipartUpload response";
  auto root = ParseXml(body, kWhat);
  if (!root) return std::unexpected(root.error());
  if (root->name == "Error") {
    auto error = ParseErrorBody(body);
    if (!error) return std::unexpected(error.error());
    return std::optional<S3ErrorBody>(std::move(*error));
  }
  DRCTL_TRY(ExpectRoot(*root, "CompleteMultipartUploadResult", kWhat));
  return std::optional<S3ErrorBody>();
}

Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view body) {
  constexpr std::string_view kWhat = "DeleteObjects response";
  auto root = ParseXml(body, kWhat);
  if (!root) return std::unexpected(root.error());
  DRCTL_TRY(ExpectRoot(*root, "DeleteResult", kWhat));
  std::vector<DeleteFailure> failures;
  for (const auto& child : root->children) {
    if (child.name != "Error") continue;
    DeleteFailure failure;
    auto key = RequiredText(child, "Key", kWhat);
    if (!key) return std::unexpected(key.error());
    auto code = RequiredText(child, "Code", kWhat);
    if (!code) return std::unexpected(code.error());
    failure.key = std::move(*key);
    failure.code = std::move(*code);
    failure.message = OptionalText(child, "Message");
    failures.push_back(std::move(failure));
  }
  return failures;
}

Result<std::int64_t> ParseIso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.f+]Z
  const bool shape = text.size() >= 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' &&
                     text[13] == ':' && text[16] == ':' && text.back() == 'Z';
  bool fraction_ok = text.size() == 20;
  if (shape && text.size() > 21 && text[19] == '.') {
    fraction_ok = true;
    for (std::size_t i = 20; i + 1 < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') fraction_ok = false;
    }
  }
  if (!shape || !fraction_ok) {
    return Fail(ErrorCode::kCorrupt, "malformed time \"" + std::string(text.substr(0, 40)) + "\"",
                "expected ISO 8601 like 2009-10-12T17:50:30.000Z");
  }
  return CivilToEpoch(Digits(text, 0, 4), Digits(text, 5, 2), Digits(text, 8, 2),
                      Digits(text, 11, 2), Digits(text, 14, 2), Digits(text, 17, 2), text);
}

Result<std::int64_t> ParseHttpDate(std::string_view text) {
  // "Wed, 12 Oct 2009 17:50:00 GMT"
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int month = -1;
  if (text.size() == 29) {
    for (int i = 0; i < 12; ++i) {
      if (text.substr(8, 3) == kMonths[i]) month = i + 1;
    }
  }
  if (month < 0 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return Fail(ErrorCode::kCorrupt,
                "malformed HTTP date \"" + std::string(text.substr(0, 40)) + "\"",
                "expected an IMF-fixdate like Wed, 12 Oct 2009 17:50:00 GMT");
  }
  return CivilToEpoch(Digits(text, 12, 4), month, Digits(text, 5, 2), Digits(text, 17, 2),
                      Digits(text, 20, 2), Digits(text, 23, 2), text);
}

}  // namespace drctl::storage::s3
