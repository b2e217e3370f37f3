// engine/bus/leases.cpp — see leases.h and docs/bus.md "Shards and leases".
#include "engine/bus/leases.h"

#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>

#include <algorithm>
#include <chrono>

#include "engine/bus/nats_client.h"
#include "engine/bus/wire.h"

namespace obr::bus {

std::string LeaseKeeper::shard_key(std::uint32_t shard) { return absl::StrCat("shard.", shard); }

std::int64_t LeaseKeeper::now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

LeaseKeeper::LeaseKeeper(NatsConnection& nats, KvBucket& bucket, LeaseSettings settings, Acquired on_acquired,
                         Lost on_lost)
    : nats_(nats),
      bucket_(bucket),
      settings_(std::move(settings)),
      on_acquired_(std::move(on_acquired)),
      on_lost_(std::move(on_lost)),
      shards_(new Shard[settings_.shards]) {
  if (settings_.settle_ns == 0) settings_.settle_ns = settings_.ttl_ns / 3;
  // Rendezvous order: each engine prefers different shards, so engines that campaign at
  // the same moment mostly ask for different keys.
  preference_.resize(settings_.shards);
  for (std::uint32_t i = 0; i < settings_.shards; ++i) preference_[i] = i;
  std::vector<std::uint32_t> rank(settings_.shards);
  for (std::uint32_t i = 0; i < settings_.shards; ++i) {
    rank[i] = shard_of(settings_.engine_id, absl::StrCat(i), 0xFFFFFFFFu);
  }
  std::sort(preference_.begin(), preference_.end(),
            [&rank](std::uint32_t a, std::uint32_t b) { return rank[a] != rank[b] ? rank[a] > rank[b] : a < b; });
}

LeaseKeeper::~LeaseKeeper() { stop(false); }

void LeaseKeeper::start() {
  started_ns_ = now_ns();
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen_[settings_.engine_id] = started_ns_;
  }
  // "ID": an engine is there; "leave:ID" (':' is in no engine id): it is leaving (a clean
  // stop), forget it at once.
  auto sub = nats_.subscribe(settings_.presence_subject, [this](const Delivery& d) {
    std::lock_guard<std::mutex> lock(mu_);
    if (d.data.starts_with("leave:")) {
      seen_.erase(std::string(d.data.substr(6)));
    } else {
      seen_[std::string(d.data)] = now_ns();
    }
  });
  if (sub.ok()) presence_ = std::move(*sub);
  thread_ = std::thread([this] { run(); });
}

std::uint64_t LeaseKeeper::epoch(std::uint32_t shard) const noexcept {
  if (shard >= settings_.shards) return 0;
  const Shard& s = shards_[shard];
  const std::uint64_t e = s.epoch.load(std::memory_order_acquire);
  if (e == 0 || now_ns() >= s.valid_until.load(std::memory_order_acquire)) return 0;
  return e;
}

LeaseStats LeaseKeeper::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void LeaseKeeper::stop(bool release) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  presence_.reset();
  if (!release) return;
  (void)nats_.publish(settings_.presence_subject, "leave:" + settings_.engine_id);
  for (std::uint32_t i = 0; i < settings_.shards; ++i) {
    // Only a lease still valid is deleted: one that lapsed may belong to another engine now.
    if (epoch(i) == 0) {
      drop(i, false);
      continue;
    }
    drop(i, false);
    if (bucket_.erase(shard_key(i)).ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.released;
    }
  }
}

void LeaseKeeper::drop(std::uint32_t shard, bool count_lost) {
  Shard& s = shards_[shard];
  if (s.epoch.exchange(0, std::memory_order_acq_rel) == 0) return;
  s.valid_until.store(0, std::memory_order_release);
  s.revision = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_lost) ++stats_.lost;
    --stats_.held;
  }
  if (on_lost_) on_lost_(shard);
}

std::optional<std::uint64_t> LeaseKeeper::own_revision(std::uint32_t shard) {
  absl::StatusOr<std::optional<KvEntry>> e = bucket_.get(shard_key(shard));
  if (!e.ok() || !e->has_value() || (*e)->value != settings_.engine_id) return std::nullopt;
  return (*e)->revision;
}

std::uint32_t LeaseKeeper::count_engines() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t now = now_ns();
  std::uint32_t n = 0;
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (now - it->second > settings_.ttl_ns) {
      it = seen_.erase(it);
    } else {
      ++n, ++it;
    }
  }
  return n;
}

void LeaseKeeper::run() {
  const std::int64_t tick = std::max<std::int64_t>(settings_.ttl_ns / 6, 50'000'000);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    step();
    lock.lock();
    cv_.wait_for(lock, std::chrono::nanoseconds(tick), [this] { return stopping_; });
  }
}

void LeaseKeeper::step() {
  if (on_step_) on_step_();
  const std::int64_t margin = settings_.ttl_ns / 10;
  auto count_error = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.errors;
  };
  // 1. Announce, on core NATS: engines count each other from what they heard within a TTL.
  if (!nats_.publish(settings_.presence_subject, settings_.engine_id)) count_error();
  // 2. Renew what is held; a lease whose time ran out locally is dropped first.
  std::uint32_t held = 0;
  for (std::uint32_t i = 0; i < settings_.shards; ++i) {
    Shard& s = shards_[i];
    if (s.epoch.load(std::memory_order_acquire) == 0) continue;
    if (now_ns() >= s.valid_until.load(std::memory_order_acquire)) {
      drop(i, true);
      continue;
    }
    const std::int64_t sent = now_ns();
    const std::int64_t was_valid_until = s.valid_until.load(std::memory_order_acquire);
    absl::StatusOr<std::uint64_t> rev = bucket_.update(shard_key(i), settings_.engine_id, s.revision);
    if (rev.ok()) {
      s.revision = *rev;
      s.valid_until.store(sent + settings_.ttl_ns - margin, std::memory_order_release);
      if (now_ns() >= was_valid_until) {
        // The answer came after the lease had lapsed here: epoch() said 0 meanwhile and the
        // publisher stopped. The lease resumes under a new epoch (this write's revision), so
        // that its books start over with a view that every replica takes: the same epoch
        // with its sequence started again would look like duplicates to a replica in sync.
        s.epoch.store(*rev, std::memory_order_release);
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.acquired;
      }
      ++held;
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.renewals;
    } else if (absl::IsFailedPrecondition(rev.status())) {
      // The revision moved. Still this engine's value: its own write landed but the answer
      // was lost (a client retry during a cluster leader change writes again), so it holds
      // the lease at the newer revision, same epoch. Another value: another engine holds it.
      if (std::optional<std::uint64_t> own = own_revision(i)) {
        s.revision = *own;
        ++held;
      } else {
        drop(i, true);
      }
    } else {
      count_error();
      ++held;  // still ours until valid_until, unless a later renewal says otherwise
    }
  }
  // 3. Share: take free shards up to this engine's part, let extra ones go. Not while the
  // server is away: the engines heard would be too few, and every call would wait out its
  // timeout.
  if (now_ns() - started_ns_ < settings_.settle_ns || !nats_.connected()) return;
  const std::uint32_t engines = std::max<std::uint32_t>(count_engines(), 1);
  const std::uint32_t target = (settings_.shards + engines - 1) / engines;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.engines_seen = engines;
  }
  for (std::uint32_t shard : preference_) {
    if (held >= target) break;
    Shard& s = shards_[shard];
    if (s.epoch.load(std::memory_order_acquire) != 0) continue;
    const std::int64_t sent = now_ns();
    absl::StatusOr<std::uint64_t> rev = bucket_.create(shard_key(shard), settings_.engine_id);
    if (!rev.ok() && absl::IsFailedPrecondition(rev.status())) {
      // Held in this engine's name though not by this process (a lost answer, or this engine
      // restarted under the same id): taken again with an update, which makes a new epoch.
      if (std::optional<std::uint64_t> own = own_revision(shard)) {
        rev = bucket_.update(shard_key(shard), settings_.engine_id, *own);
      }
    }
    if (!rev.ok()) {
      if (!absl::IsFailedPrecondition(rev.status())) count_error();
      continue;
    }
    s.revision = *rev;
    s.valid_until.store(sent + settings_.ttl_ns - margin, std::memory_order_release);
    s.epoch.store(*rev, std::memory_order_release);
    ++held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.acquired;
      ++stats_.held;
    }
    if (on_acquired_) on_acquired_(shard, *rev);
  }
  // Extra shards go least preferred first; only when clearly over (one more than the part),
  // so that a rounding difference does not move shards back and forth.
  for (auto it = preference_.rbegin(); it != preference_.rend() && held > target + 1; ++it) {
    if (shards_[*it].epoch.load(std::memory_order_acquire) == 0) continue;
    drop(*it, false);
    if (bucket_.erase(shard_key(*it)).ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.released;
    }
    --held;
  }
}

}  // namespace obr::bus
