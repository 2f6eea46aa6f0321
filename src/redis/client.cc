#include "redis/client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

namespace drctl::redis {
namespace {

Reply Convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.text.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      out.text = std::to_string(r->integer);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      for (std::size_t i = 0; i < r->elements; ++i) out.items.push_back(Convert(r->element[i]));
      break;
    default:
      out.type = Reply::Type::kNil;
  }
  return out;
}

timeval ToTimeval(std::chrono::milliseconds t) {
  return timeval{static_cast<time_t>(t.count() / 1000),
                 static_cast<suseconds_t>((t.count() % 1000) * 1000)};
}

}  // namespace

void Client::Closer::operator()(redisContext* c) const { redisFree(c); }

Client::~Client() = default;

Result<Client> Client::Connect(const std::string& host, int port,
                               std::chrono::milliseconds timeout) {
  const std::string where = host + ":" + std::to_string(port);
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, ToTimeval(timeout));
  if (c == nullptr) return Fail(ErrorCode::kInternal, "hiredis could not allocate a context");
  Client client(c, where);
  if (c->err != 0) {
    return Fail(ErrorCode::kRedis, "cannot connect to Redis at " + where + ": " + c->errstr,
                "check that Redis is running and the address is right");
  }
  if (redisSetTimeout(c, ToTimeval(timeout)) != REDIS_OK) {
    return Fail(ErrorCode::kRedis, "cannot set a timeout on the Redis connection to " + where);
  }
  return client;
}

Result<Reply> Client::Command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data()));
  const std::string name = args.empty() ? "?" : args[0];
  if (raw == nullptr) {
    const bool timeout = ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    return Fail(timeout ? ErrorCode::kTimeout : ErrorCode::kRedis,
                "Redis " + name + " at " + where_ + " failed: " + ctx_->errstr);
  }
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(raw, freeReplyObject);
  if (raw->type == REDIS_REPLY_ERROR) {
    return Fail(ErrorCode::kRedis,
                "Redis " + name + " at " + where_ + " failed: " + std::string(raw->str, raw->len));
  }
  return Convert(raw);
}

Status Client::Ping() {
  auto reply = Command({"PING"});
  if (!reply) return std::unexpected(reply.error());
  if (reply->text != "PONG") {
    return Fail(ErrorCode::kRedis,
                "Redis at " + where_ + " answered PING with '" + reply->text + "'");
  }
  return Ok();
}

}  // namespace drctl::redis
