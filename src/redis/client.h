// A Redis connection (hiredis, RESP2). Errors are kRedis and name the server; kTimeout when a
// reply does not come within the timeout. Not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

struct redisContext;

namespace drctl::redis {

// A reply flattened to what callers need: status/string/integer replies as text, arrays as items.
struct Reply {
  enum class Type : std::uint8_t { kString, kStatus, kInteger, kNil, kArray } type = Type::kNil;
  std::string text;
  long long integer = 0;
  std::vector<Reply> items;
};

class Client {
 public:
  static Result<Client> Connect(const std::string& host, int port,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5));

  Client(Client&&) noexcept = default;
  Client& operator=(Client&&) noexcept = default;
  ~Client();

  // Sends one command (binary-safe arguments) and reads its reply. A Redis error reply is kRedis.
  Result<Reply> Command(const std::vector<std::string>& args);

  // PING, expecting PONG.
  Status Ping();

  std::string Where() const { return where_; }

 private:
  struct Closer {
    void operator()(redisContext* c) const;
  };
  Client(redisContext* c, std::string where) : ctx_(c), where_(std::move(where)) {}
  std::unique_ptr<redisContext, Closer> ctx_;
  std::string where_;
};

}  // namespace drctl::redis
