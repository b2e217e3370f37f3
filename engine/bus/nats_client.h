// engine/bus/nats_client.h — the little of the NATS C client (libnats, cnats 3.4) that the
// bus uses, behind RAII types so that nats.h stays out of obr's headers: a connection that
// reconnects forever, core publish and subscribe, request/reply, and JetStream key-value
// buckets (docs/bus.md "On NATS").
//
//   obr::bus::NatsSettings s{.servers = {"nats://127.0.0.1:4222"}, .name = "obr e1"};
//   auto c = obr::bus::NatsConnection::connect(s);              // StatusOr
//   (*c)->publish("obr.d.kraken.BTC/USD", bytes);              // buffered; the client flushes
//   auto kv = (*c)->bucket({.name = "obr_books"});             // created when absent
//   auto e = (*kv)->get("kraken.BTC/USD");                     // StatusOr<optional<KvEntry>>
//
// Thread-safety: a connection and its buckets may be used from any thread (the C client
// locks). Subscription handlers run on the client's delivery thread of that subscription.
#pragma once

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obr::bus {

struct NatsSettings {
  std::vector<std::string> servers;              // nats://host:port, tried in turn
  std::string name;                              // the connection's name on the server
  std::int64_t reconnect_wait_ns = 100'000'000;  // between attempts on one server (plus jitter)
  std::int64_t connect_timeout_ns = 2'000'000'000;
  std::int64_t request_timeout_ns = 2'000'000'000;  // JetStream API calls (key-value)
  std::int64_t ping_interval_ns = 1'000'000'000;    // a dead server is noticed after 2 unanswered pings
  bool retry_first_connect = true;                  // the first connect also retries in the background
  // One delivery thread for every subscription of the connection (instead of a thread per
  // subscription): handlers never run concurrently, and messages keep their order across
  // subscriptions. A replica of many books needs it.
  bool shared_delivery = false;
  int pending_msgs_limit = 65536;  // per subscription; beyond, the client drops (a slow consumer)
  // How publishes reach the socket (docs/bus.md "Figures" measures each):
  //   kFlushThread  a thread of this connection flushes as soon as a publish is buffered,
  //                 and again for what was buffered meanwhile: a write per burst, so a
  //                 quiet bus gets each message out at once and a busy one in batches;
  //   kAsap         a write per publish, on the publishing thread (the client's SendAsap);
  //   kClientBatch  the client's own flusher, which waits 1 ms for more before writing.
  enum class Writes : std::uint8_t { kFlushThread, kAsap, kClientBatch };
  Writes writes = Writes::kFlushThread;
};

struct Delivery {
  std::string_view subject;
  std::string_view reply;
  std::string_view data;
};
using Handler = std::function<void(const Delivery&)>;

class NatsSubscription;

struct KvEntry {
  std::string value;
  std::uint64_t revision = 0;
};

struct BucketSettings {
  std::string name;
  std::int64_t ttl_ns = 0;  // 0: entries never expire
  int replicas = 1;
  bool memory = false;  // file storage survives a server restart (leases must: docs/bus.md)
  int history = 1;
};

class KvBucket {
 public:
  ~KvBucket();
  KvBucket(const KvBucket&) = delete;
  KvBucket& operator=(const KvBucket&) = delete;
  // get: the key's value, nullopt when absent (or deleted).
  absl::StatusOr<std::optional<KvEntry>> get(const std::string& key);
  // create: only when the key is absent (or deleted or expired); the new revision.
  // FailedPrecondition when it exists.
  absl::StatusOr<std::uint64_t> create(const std::string& key, std::string_view value);
  // update: only when the key's revision is still `last`; FailedPrecondition otherwise.
  absl::StatusOr<std::uint64_t> update(const std::string& key, std::string_view value, std::uint64_t last);
  absl::StatusOr<std::uint64_t> put(const std::string& key, std::string_view value);
  absl::Status erase(const std::string& key);
  // keys: every key present (none: an empty list).
  absl::StatusOr<std::vector<std::string>> keys();
  // subject: where a core-NATS publish of `key`'s value lands in the bucket's stream
  // ("$KV.BUCKET.KEY"): a put without waiting for the acknowledgement.
  std::string subject(std::string_view key) const;
  const std::string& name() const noexcept { return name_; }

 private:
  friend class NatsConnection;
  KvBucket() = default;
  void* kv_ = nullptr;  // kvStore*
  std::string name_;
};

class NatsConnection {
 public:
  // connect: a connection to the first server that answers; with retry_first_connect the
  // call returns at once and connects in the background when none answers yet.
  static absl::StatusOr<std::unique_ptr<NatsConnection>> connect(const NatsSettings& settings);
  ~NatsConnection();  // closes: buffered messages are flushed first (at most 1 s)
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // publish: false when the client refused it (closed, or its reconnect buffer full):
  // the message is lost, which its sequence number will show.
  bool publish(const std::string& subject, std::string_view data, const char* reply = nullptr) noexcept;
  absl::StatusOr<std::unique_ptr<NatsSubscription>> subscribe(const std::string& subject, Handler handler);
  // request: a synchronous request/reply; DeadlineExceeded on no answer.
  absl::StatusOr<std::string> request(const std::string& subject, std::string_view data, std::int64_t timeout_ns);
  // bucket: the JetStream key-value bucket, created with `settings` when absent.
  absl::StatusOr<std::unique_ptr<KvBucket>> bucket(const BucketSettings& settings);
  absl::Status flush(std::int64_t timeout_ns);
  bool connected() const noexcept;
  // Event hooks (set before the events; run on the client's thread).
  void on_reconnected(std::function<void()> fn);
  void on_disconnected(std::function<void()> fn);

  std::uint64_t disconnects() const noexcept { return disconnects_.load(std::memory_order_relaxed); }
  std::uint64_t reconnects() const noexcept { return reconnects_.load(std::memory_order_relaxed); }
  std::uint64_t publish_failures() const noexcept { return publish_failures_.load(std::memory_order_relaxed); }
  std::uint64_t async_errors() const noexcept { return async_errors_.load(std::memory_order_relaxed); }

  struct Impl;

 private:
  NatsConnection();
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> disconnects_{0}, reconnects_{0}, publish_failures_{0}, async_errors_{0};
};

class NatsSubscription {
 public:
  ~NatsSubscription();  // unsubscribes; no handler call after it returns
  NatsSubscription(const NatsSubscription&) = delete;
  NatsSubscription& operator=(const NatsSubscription&) = delete;
  // dropped: messages the client dropped for this subscription (its pending limit hit).
  std::uint64_t dropped() const;
  // set_pending_limits: at most `msgs` messages and `bytes` bytes waiting for the handler.
  absl::Status set_pending_limits(int msgs, int bytes);

 private:
  friend class NatsConnection;
  NatsSubscription() = default;
  void* sub_ = nullptr;  // natsSubscription*
  std::unique_ptr<Handler> handler_;
};

}  // namespace obr::bus
