// engine/bus/leases.h — shard leases in a JetStream key-value bucket (docs/bus.md
// "Shards and leases"). Each engine process announces itself (its id on the presence
// subject, every step), counts the engines heard within a TTL, and holds at most ceil(shards / engines) shard leases
// (key `shard.N`, value the engine id): it takes a free shard with a create (which fails when the key exists), renews
// it with an update on the revision it holds (which fails when another engine took it), and lets extra shards go. The
// bucket's TTL expires the leases of an engine that died, and the others take its shards.
//
// Epoch: the revision of the write that took the lease — a fencing token: a consumer
// ignores an epoch below the highest it has seen, so a former owner that has not noticed
// its loss cannot overwrite the new owner's book. Renewals keep the epoch.
//
// A lease is usable (epoch() non-zero) only until its last successful write plus the TTL
// minus a margin, measured on this process's monotonic clock from before the write was
// sent: publishing stops on time even when the server cannot be reached to learn about
// the loss.
//
// Thread-safety: start() and stop() from one thread; epoch() from any thread (lock-free).
// The callbacks run on the keeper's own thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace obr::bus {

class KvBucket;
class NatsConnection;
class NatsSubscription;

struct LeaseSettings {
  std::string engine_id;
  std::uint32_t shards = 16;
  std::int64_t ttl_ns = 3'000'000'000;  // the bucket's TTL
  // Before taking its first shards, an engine waits this long after announcing itself so
  // that engines started together see each other and share the shards (0: ttl / 3).
  std::int64_t settle_ns = 0;
  std::string presence_subject = "obr.engines";  // where engines announce themselves (core NATS)
};

struct LeaseStats {
  std::uint64_t acquired = 0;
  std::uint64_t lost = 0;  // taken by another engine, or expired before a renewal got through
  std::uint64_t released = 0;
  std::uint64_t renewals = 0;
  std::uint64_t errors = 0;  // key-value calls that failed for another reason (server away)
  std::uint32_t engines_seen = 0;
  std::uint32_t held = 0;
};

class LeaseKeeper {
 public:
  using Acquired = std::function<void(std::uint32_t shard, std::uint64_t epoch)>;
  using Lost = std::function<void(std::uint32_t shard)>;
  LeaseKeeper(NatsConnection& nats, KvBucket& bucket, LeaseSettings settings, Acquired on_acquired, Lost on_lost);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // on_step: runs at the start of every step, on the keeper's thread (before start()).
  void on_step(std::function<void()> fn) { on_step_ = std::move(fn); }
  void start();
  // stop: the thread ends; with `release`, every held lease is deleted (so that another
  // engine takes the shard at once) and the announcement too.
  void stop(bool release);

  // epoch: the epoch `shard` may be published under now; 0 when this engine does not hold it.
  std::uint64_t epoch(std::uint32_t shard) const noexcept;
  LeaseStats stats() const;

  static std::string shard_key(std::uint32_t shard);
  static std::int64_t now_ns() noexcept;  // the monotonic clock the leases are timed on

 private:
  struct Shard {
    std::atomic<std::uint64_t> epoch{0};
    std::atomic<std::int64_t> valid_until{0};
    std::uint64_t revision = 0;  // of the last write (keeper thread only)
  };
  void run();
  void step();
  void drop(std::uint32_t shard, bool count_lost);
  std::uint32_t count_engines();
  // own_revision: the key's revision when its value is this engine's id.
  std::optional<std::uint64_t> own_revision(std::uint32_t shard);

  NatsConnection& nats_;
  KvBucket& bucket_;
  LeaseSettings settings_;
  Acquired on_acquired_;
  Lost on_lost_;
  std::function<void()> on_step_;
  std::unique_ptr<Shard[]> shards_;
  std::vector<std::uint32_t> preference_;  // the shards in this engine's order of preference
  std::unique_ptr<NatsSubscription> presence_;
  std::map<std::string, std::int64_t> seen_;  // engine id → when last heard (under mu_)
  std::int64_t started_ns_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  LeaseStats stats_;  // under mu_
};

}  // namespace obr::bus
