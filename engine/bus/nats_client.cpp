// engine/bus/nats_client.cpp — see nats_client.h.
#include "engine/bus/nats_client.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace obr::bus {
namespace {

std::int64_t ms(std::int64_t ns) { return ns / 1'000'000 > 0 ? ns / 1'000'000 : 1; }

std::string nats_error(natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  return absl::StrCat(natsStatus_GetText(s), last != nullptr && *last != 0 ? absl::StrCat(" (", last, ")") : "");
}

absl::Status to_status(natsStatus s, const std::string& what) {
  if (s == NATS_OK) return absl::OkStatus();
  const std::string text = absl::StrCat(what, ": ", nats_error(s));
  if (s == NATS_TIMEOUT) return absl::DeadlineExceededError(text);
  if (s == NATS_NOT_FOUND) return absl::NotFoundError(text);
  return absl::UnavailableError(text);
}

void deliver(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* handler = static_cast<Handler*>(closure);
  const char* reply = natsMsg_GetReply(msg);
  Delivery d{natsMsg_GetSubject(msg), reply != nullptr ? std::string_view(reply) : std::string_view(),
             std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)))};
  (*handler)(d);
  natsMsg_Destroy(msg);
}

}  // namespace

// Events: the client calls them on its own thread, also after natsConnection_Close has
// returned (it posts them). Their closure is therefore not the connection but this small
// record, which outlives it: the connection's destructor detaches it (under its lock), and
// the client's closed callback, the last it makes for a connection, deletes it.
struct Events {
  std::mutex mu;
  NatsConnection* owner = nullptr;  // null once the connection is being destroyed
  std::function<void()> reconnected, disconnected;
  std::atomic<std::uint64_t>* disconnects = nullptr;
  std::atomic<std::uint64_t>* reconnects = nullptr;
  std::atomic<std::uint64_t>* errors = nullptr;

  static void on_reconnected(natsConnection*, void* closure) {
    auto* ev = static_cast<Events*>(closure);
    std::lock_guard<std::mutex> lock(ev->mu);
    if (ev->owner == nullptr) return;
    ev->reconnects->fetch_add(1, std::memory_order_relaxed);
    if (ev->reconnected) ev->reconnected();
  }
  static void on_disconnected(natsConnection*, void* closure) {
    auto* ev = static_cast<Events*>(closure);
    std::lock_guard<std::mutex> lock(ev->mu);
    if (ev->owner == nullptr) return;
    ev->disconnects->fetch_add(1, std::memory_order_relaxed);
    if (ev->disconnected) ev->disconnected();
  }
  static void on_error(natsConnection*, natsSubscription*, natsStatus, void* closure) {
    auto* ev = static_cast<Events*>(closure);
    std::lock_guard<std::mutex> lock(ev->mu);
    if (ev->owner != nullptr) ev->errors->fetch_add(1, std::memory_order_relaxed);
  }
  static void on_closed(natsConnection*, void* closure) { delete static_cast<Events*>(closure); }
  // on_connected: the first connect, made in the background. Its presence is what makes the
  // client connect in the background: without a connected callback, a retried first
  // connect blocks natsConnection_Connect until a server answers (libnats 3.4.1, _connect).
  static void on_connected(natsConnection*, void*) {}
};

struct NatsConnection::Impl {
  // Writes::kFlushThread: `dirty` is set by a publish that finds it clear (and wakes the
  // thread); the thread clears it, then flushes (a PING behind the buffered messages, which
  // the client writes at once), so what was published during a flush is flushed next.
  std::atomic<bool> dirty{false};
  std::atomic<bool> stopping{false};
  std::thread flusher;
  bool flush_thread = false;
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  Events* events = nullptr;  // owned by the client once connected (Events::on_closed)
  int pending_msgs_limit = 65536;
};

NatsConnection::NatsConnection() : impl_(std::make_unique<Impl>()) {}

NatsConnection::~NatsConnection() {
  if (impl_->flusher.joinable()) {
    impl_->stopping.store(true);
    impl_->dirty.store(true);
    impl_->dirty.notify_one();
    impl_->flusher.join();
  }
  if (impl_->events != nullptr) {
    std::lock_guard<std::mutex> lock(impl_->events->mu);
    impl_->events->owner = nullptr;
  }
  if (impl_->nc != nullptr) {
    natsConnection_FlushTimeout(impl_->nc, 1000);
    natsConnection_Close(impl_->nc);
  } else if (impl_->events != nullptr) {
    delete impl_->events;  // options failed before a connect: the client has not seen it
  }
  if (impl_->js != nullptr) jsCtx_Destroy(impl_->js);
  if (impl_->nc != nullptr) natsConnection_Destroy(impl_->nc);
  if (impl_->opts != nullptr) natsOptions_Destroy(impl_->opts);
}

absl::StatusOr<std::unique_ptr<NatsConnection>> NatsConnection::connect(const NatsSettings& settings) {
  if (settings.servers.empty()) return absl::InvalidArgumentError("no NATS server given");
  std::unique_ptr<NatsConnection> c(new NatsConnection());
  Impl& impl = *c->impl_;
  impl.pending_msgs_limit = settings.pending_msgs_limit;
  natsStatus s = natsOptions_Create(&impl.opts);
  std::vector<const char*> urls;
  for (const std::string& u : settings.servers) urls.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(impl.opts, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK && !settings.name.empty()) s = natsOptions_SetName(impl.opts, settings.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(impl.opts, -1);  // forever
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(impl.opts, ms(settings.reconnect_wait_ns));
  if (s == NATS_OK) s = natsOptions_SetReconnectJitter(impl.opts, ms(settings.reconnect_wait_ns), 0);
  if (s == NATS_OK) s = natsOptions_SetTimeout(impl.opts, ms(settings.connect_timeout_ns));
  if (s == NATS_OK) s = natsOptions_SetPingInterval(impl.opts, ms(settings.ping_interval_ns));
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(impl.opts, 2);
  impl.events = new Events();
  impl.events->owner = c.get();
  impl.events->disconnects = &c->disconnects_;
  impl.events->reconnects = &c->reconnects_;
  impl.events->errors = &c->async_errors_;
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(impl.opts, &Events::on_reconnected, impl.events);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(impl.opts, &Events::on_disconnected, impl.events);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(impl.opts, &Events::on_error, impl.events);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(impl.opts, &Events::on_closed, impl.events);
  if (s == NATS_OK) s = natsOptions_SetSendAsap(impl.opts, settings.writes == NatsSettings::Writes::kAsap);
  if (s == NATS_OK && settings.shared_delivery) s = natsOptions_UseGlobalMessageDelivery(impl.opts, true);
  if (s == NATS_OK && settings.retry_first_connect) {
    s = natsOptions_SetRetryOnFailedConnect(impl.opts, true, &Events::on_connected, impl.events);
  }
  if (s != NATS_OK) return to_status(s, "NATS options");
  s = natsConnection_Connect(&impl.nc, impl.opts);
  // With retry on a failed connect, NATS_NOT_YET_CONNECTED means: connecting in the background.
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    // A connect that fails closes the connection without callbacks and frees it (libnats
    // 3.4.1, natsConnection_Connect: _close(..., doCBs = false), then natsConn_release):
    // no closed callback will delete the events record, so it is deleted here.
    delete impl.events;
    impl.events = nullptr;
    return to_status(s, absl::StrCat("NATS connect to ", absl::StrJoin(settings.servers, ",")));
  }
  if (settings.writes == NatsSettings::Writes::kFlushThread) {
    impl.flush_thread = true;
    impl.flusher = std::thread([impl_ptr = &impl] {
      Impl& m = *impl_ptr;
      while (true) {
        m.dirty.wait(false);
        if (m.stopping.load()) break;
        m.dirty.store(false);
        // Disconnected, the flush fails at once: a pause, rather than spinning on publishes
        // that go to the reconnect buffer.
        if (natsConnection_FlushTimeout(m.nc, 1000) != NATS_OK) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
    });
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = ms(settings.request_timeout_ns);
  s = natsConnection_JetStream(&impl.js, impl.nc, &jo);
  if (s != NATS_OK) return to_status(s, "JetStream context");
  return c;
}

bool NatsConnection::publish(const std::string& subject, std::string_view data, const char* reply) noexcept {
  const natsStatus s =
      reply == nullptr ? natsConnection_Publish(impl_->nc, subject.c_str(), data.data(), static_cast<int>(data.size()))
                       : natsConnection_PublishRequest(impl_->nc, subject.c_str(), reply, data.data(),
                                                       static_cast<int>(data.size()));
  if (s != NATS_OK) {
    publish_failures_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (impl_->flush_thread && !impl_->dirty.exchange(true, std::memory_order_acq_rel)) impl_->dirty.notify_one();
  return true;
}

absl::StatusOr<std::unique_ptr<NatsSubscription>> NatsConnection::subscribe(const std::string& subject,
                                                                            Handler handler) {
  std::unique_ptr<NatsSubscription> sub(new NatsSubscription());
  sub->handler_ = std::make_unique<Handler>(std::move(handler));
  natsSubscription* raw = nullptr;
  const natsStatus s = natsConnection_Subscribe(&raw, impl_->nc, subject.c_str(), &deliver, sub->handler_.get());
  if (s != NATS_OK) return to_status(s, absl::StrCat("subscribe to ", subject));
  sub->sub_ = raw;
  if (impl_->pending_msgs_limit > 0) {
    natsSubscription_SetPendingLimits(raw, impl_->pending_msgs_limit, 256 << 20);
  }
  return sub;
}

absl::StatusOr<std::string> NatsConnection::request(const std::string& subject, std::string_view data,
                                                    std::int64_t timeout_ns) {
  natsMsg* reply = nullptr;
  const natsStatus s = natsConnection_Request(&reply, impl_->nc, subject.c_str(), data.data(),
                                              static_cast<int>(data.size()), ms(timeout_ns));
  if (s != NATS_OK) return to_status(s, absl::StrCat("request to ", subject));
  std::string out(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return out;
}

absl::StatusOr<std::unique_ptr<KvBucket>> NatsConnection::bucket(const BucketSettings& settings) {
  std::unique_ptr<KvBucket> b(new KvBucket());
  b->name_ = settings.name;
  kvStore* kv = nullptr;
  natsStatus s = NATS_OK;
  // A cluster that has just started (or lost its leader) may take longer than one request
  // timeout to create a replicated stream: the lookup and creation are tried again for
  // up to 15 s (a creation that timed out may have happened; the lookup then finds it).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  do {
    s = js_KeyValue(&kv, impl_->js, settings.name.c_str());
    if (s == NATS_NOT_FOUND) {
      kvConfig cfg;
      kvConfig_Init(&cfg);
      cfg.Bucket = settings.name.c_str();
      cfg.History = static_cast<uint8_t>(settings.history);
      cfg.TTL = settings.ttl_ns;  // cnats 3.4 hands it to the stream's max age as it is: nanoseconds
      cfg.Replicas = settings.replicas;
      cfg.StorageType = settings.memory ? js_MemoryStorage : js_FileStorage;
      s = js_CreateKeyValue(&kv, impl_->js, &cfg);
    }
  } while ((s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) && std::chrono::steady_clock::now() < until);
  if (s != NATS_OK) return to_status(s, absl::StrCat("key-value bucket ", settings.name));
  b->kv_ = kv;
  return b;
}

absl::Status NatsConnection::flush(std::int64_t timeout_ns) {
  return to_status(natsConnection_FlushTimeout(impl_->nc, ms(timeout_ns)), "flush");
}

bool NatsConnection::connected() const noexcept {
  return natsConnection_Status(impl_->nc) == NATS_CONN_STATUS_CONNECTED;
}

void NatsConnection::on_reconnected(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(impl_->events->mu);
  impl_->events->reconnected = std::move(fn);
}
void NatsConnection::on_disconnected(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(impl_->events->mu);
  impl_->events->disconnected = std::move(fn);
}

NatsSubscription::~NatsSubscription() {
  if (sub_ != nullptr) {
    auto* s = static_cast<natsSubscription*>(sub_);
    // A drain delivers what is pending and then completes; waiting for its completion
    // means the delivery thread has left the handler, so the handler's state may be
    // destroyed after this returns. A closed connection cannot drain: unsubscribe.
    bool drained = false;
    if (natsSubscription_Drain(s) == NATS_OK) {
      drained = natsSubscription_WaitForDrainCompletion(s, 5000) == NATS_OK;
    } else {
      natsSubscription_Unsubscribe(s);
    }
    // Not drained (a backlog, or the connection closed): the delivery thread may still be in
    // the handler, so the handler is left to it (a few bytes, on that rare path) rather than
    // freed under it.
    if (!drained) (void)handler_.release();
    natsSubscription_Destroy(s);
  }
}

std::uint64_t NatsSubscription::dropped() const {
  int64_t n = 0;
  if (sub_ != nullptr) natsSubscription_GetDropped(static_cast<natsSubscription*>(sub_), &n);
  return static_cast<std::uint64_t>(n);
}

absl::Status NatsSubscription::set_pending_limits(int msgs, int bytes) {
  return to_status(natsSubscription_SetPendingLimits(static_cast<natsSubscription*>(sub_), msgs, bytes),
                   "pending limits");
}

KvBucket::~KvBucket() {
  if (kv_ != nullptr) kvStore_Destroy(static_cast<kvStore*>(kv_));
}

absl::StatusOr<std::optional<KvEntry>> KvBucket::get(const std::string& key) {
  kvEntry* e = nullptr;
  const natsStatus s = kvStore_Get(&e, static_cast<kvStore*>(kv_), key.c_str());
  if (s == NATS_NOT_FOUND) return std::optional<KvEntry>();
  if (s != NATS_OK) return to_status(s, absl::StrCat("get ", name_, "/", key));
  KvEntry out;
  out.value.assign(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(kvEntry_ValueLen(e)));
  out.revision = kvEntry_Revision(e);
  kvEntry_Destroy(e);
  return std::optional<KvEntry>(std::move(out));
}

namespace {
// A key-value write refused for its expected revision: JetStream's "wrong last sequence".
absl::Status write_status(natsStatus s, const std::string& what) {
  if (s == NATS_OK) return absl::OkStatus();
  const std::string text = nats_error(s);
  if (s == NATS_ERR && text.find("wrong last sequence") != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": ", text));
  }
  return to_status(s, what);
}
}  // namespace

absl::StatusOr<std::uint64_t> KvBucket::create(const std::string& key, std::string_view value) {
  std::uint64_t rev = 0;
  const natsStatus s =
      kvStore_Create(&rev, static_cast<kvStore*>(kv_), key.c_str(), value.data(), static_cast<int>(value.size()));
  if (absl::Status st = write_status(s, absl::StrCat("create ", name_, "/", key)); !st.ok()) return st;
  return rev;
}

absl::StatusOr<std::uint64_t> KvBucket::update(const std::string& key, std::string_view value, std::uint64_t last) {
  std::uint64_t rev = 0;
  const natsStatus s =
      kvStore_Update(&rev, static_cast<kvStore*>(kv_), key.c_str(), value.data(), static_cast<int>(value.size()), last);
  if (absl::Status st = write_status(s, absl::StrCat("update ", name_, "/", key)); !st.ok()) return st;
  return rev;
}

absl::StatusOr<std::uint64_t> KvBucket::put(const std::string& key, std::string_view value) {
  std::uint64_t rev = 0;
  const natsStatus s =
      kvStore_Put(&rev, static_cast<kvStore*>(kv_), key.c_str(), value.data(), static_cast<int>(value.size()));
  if (absl::Status st = write_status(s, absl::StrCat("put ", name_, "/", key)); !st.ok()) return st;
  return rev;
}

absl::Status KvBucket::erase(const std::string& key) {
  return to_status(kvStore_Delete(static_cast<kvStore*>(kv_), key.c_str()), absl::StrCat("delete ", name_, "/", key));
}

absl::StatusOr<std::vector<std::string>> KvBucket::keys() {
  kvKeysList list{nullptr, 0};
  const natsStatus s = kvStore_Keys(&list, static_cast<kvStore*>(kv_), nullptr);
  std::vector<std::string> out;
  if (s == NATS_NOT_FOUND) return out;  // an empty bucket
  if (s != NATS_OK) return to_status(s, absl::StrCat("keys of ", name_));
  for (int i = 0; i < list.Count; ++i) out.emplace_back(list.Keys[i]);
  kvKeysList_Destroy(&list);
  return out;
}

std::string KvBucket::subject(std::string_view key) const { return absl::StrCat("$KV.", name_, ".", std::string(key)); }

}  // namespace obr::bus
