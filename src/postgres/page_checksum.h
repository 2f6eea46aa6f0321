// PostgreSQL's data page checksums (clusters initialised with --data-checksums): the algorithm of
// src/include/storage/checksum_impl.h, reimplemented, and the checks pg_basebackup makes while it
// reads relation files. doc/postgres-files.md describes how a backup reports failures.
//
// Pages are read in the byte order of the machine that wrote them: a data directory is only ever
// valid on the architecture of its server, and so is this check. All functions are pure.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace drctl::pg {

inline constexpr std::size_t kPageSize = 8192;              // BLCKSZ
inline constexpr std::uint32_t kBlocksPerSegment = 131072;  // RELSEG_SIZE: 1 GiB segment files
inline constexpr std::uint64_t kNoLsnLimit = std::numeric_limits<std::uint64_t>::max();

using Page = std::span<const std::uint8_t, kPageSize>;

// The checksum PostgreSQL stores in pd_checksum (page offset 8) for `page` at `block_number` (the
// block's number in the whole relation, not in its segment file). The stored checksum does not
// enter the computation. Always in 1..65535.
std::uint16_t PageChecksum(Page page, std::uint32_t block_number);

enum class PageStatus : std::uint8_t {
  kOk,             // the stored checksum matches
  kNew,            // all zeros: a page the server extended the file with but never wrote
  kMismatch,       // the stored checksum is not the computed one
  kNewNotZeroed,   // pd_upper == 0 (a "new" page) but other bytes are not zero: corrupt
  kSkippedRecent,  // pd_lsn >= the caller's limit: may be torn by a concurrent write (see below)
};

struct PageCheck {
  PageStatus status = PageStatus::kOk;
  std::uint16_t expected = 0;  // computed checksum (kOk, kMismatch)
  std::uint16_t found = 0;     // pd_checksum as stored (kOk, kMismatch)

  bool failed() const {
    return status == PageStatus::kMismatch || status == PageStatus::kNewNotZeroed;
  }
};

// Checks one page as PostgreSQL does on read (PageIsVerified): a page whose pd_upper is 0 is new
// and must be all zeros; any other page must carry its checksum. A page whose LSN (pd_lsn) is at
// or past `lsn_limit` is not checked (kSkippedRecent): during an online backup, pages changed
// after the backup started may be read half-written, and WAL replay rewrites them anyway; pass the
// backup's start LSN (pg_basebackup does the same), or kNoLsnLimit to check every page.
PageCheck VerifyPage(Page page, std::uint32_t block_number, std::uint64_t lsn_limit = kNoLsnLimit);

// Checks the pages of a relation segment file ("<relfilenode>[_fork][.segment]"), or a slice of it:
// `data` holds whole pages starting at page `first_page` of the file (so a file read in chunks is
// checked chunk by chunk); a trailing partial page (a file being extended) is ignored. Returns the
// relation block numbers (segment * kBlocksPerSegment + page index) of the failed pages, ascending.
std::vector<std::uint32_t> FailedBlocks(std::span<const std::uint8_t> data, std::uint32_t segment,
                                        std::uint32_t first_page = 0,
                                        std::uint64_t lsn_limit = kNoLsnLimit);

}  // namespace drctl::pg
