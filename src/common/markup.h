// Escaping text for XML and HTML (S3 request bodies, the daemon's status page): & < > " ' become
// entities (' as &#39;, which both XML 1.0 and HTML read), everything else is kept byte for byte.
#pragma once

#include <string>
#include <string_view>

namespace drctl {

std::string EscapeMarkup(std::string_view text);

}  // namespace drctl
