// A webhook receiver for tests, on 127.0.0.1 and a free port: records every POST to /hook (body
// and Content-Type, in order) and answers `answer()` (200 by default) after `delay()`.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace drctl::testing {

class WebhookReceiver {
 public:
  struct Request {
    std::string body;
    std::string content_type;
  };

  WebhookReceiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::this_thread::sleep_for(delay_.load());
      const std::lock_guard lock(mu_);
      requests_.push_back({req.body, req.get_header_value("Content-Type")});
      res.status = status_.load();
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op before the accept loop runs: wait for it, so the destructor's join ends.
    for (int i = 0; i < 10000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  int port() const { return port_; }
  std::string url(std::string_view query = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook" + std::string(query);
  }
  void answer(int status) { status_ = status; }
  void delay(std::chrono::milliseconds d) { delay_ = d; }
  std::vector<Request> requests() {
    const std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> status_{200};
  std::atomic<std::chrono::milliseconds> delay_{std::chrono::milliseconds(0)};
  std::mutex mu_;
  std::vector<Request> requests_;  // guarded by mu_
};

}  // namespace drctl::testing
