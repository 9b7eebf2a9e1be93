#pragma once
// What a request handler gets: the decoded request, the service core, and a way to answer.
// Handlers are thin adapters (one file per request type): they read the flatbuffers request,
// call the service, and build the response; no business logic lives here.
//
// Threading: a handler runs on the connection's shard (`executor`); service handlers post their
// results back there, so a handler's continuations are never concurrent with each other.

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "broker/server/response_builder.h"
#include "broker/service.h"
#include "protocol/bytes.h"
#include "protocol/held_bytes.h"
#include "protocol/sluice_generated.h"

namespace sluice {

// Work a handler leaves running after it returns (a long poll) that should end when its
// connection closes rather than run on for nobody: the connection calls abandon() on its
// shard when it closes.
class abandonable {
 public:
  virtual ~abandonable() = default;
  virtual void abandon() = 0;
};

struct request_context {
  service& svc;
  boost::asio::any_io_executor executor;
  // The request's bytes: `request` and `payload` point into them. Writable because Produce
  // appends its batches from here in place (the log stamps their offsets); nothing else writes.
  held_bytes frame;
  const wire::Request* request = nullptr;
  byte_span payload;
  // Call exactly once: with the response, or nullopt for a request that has none (acks=0).
  // Safe after the connection has closed (the response is dropped).
  std::function<void(std::optional<response_builder>)> respond;
  // Closes the connection with a logged reason: the only way to tell an acks=0 producer that
  // its batch was refused (it reads no response), as Kafka does.
  std::function<void(std::string_view reason)> close_connection;
  // True once the broker is shutting down: long polls answer at once.
  std::function<bool()> stopping;
  // Has `op` abandoned when the connection closes (at once if it already has). The connection
  // holds it weakly: an operation that finishes first is simply forgotten.
  std::function<void(std::weak_ptr<abandonable> op)> abandon_on_close;
  // The largest request frame this broker reads (--max-request-bytes), for ApiVersions.
  std::uint32_t max_request_bytes = 0;

  [[nodiscard]] std::uint64_t request_id() const { return request->request_id(); }
};

using request_handler = void (*)(request_context ctx);

// The handler for a request type, or nullptr for types this broker does not know.
[[nodiscard]] request_handler handler_for(wire::RequestBody type);

// A countdown for fan-out/fan-in inside one handler: `done` runs when arrive() was called
// `count` times (immediately if count is 0). Single-threaded (the connection's shard).
class fan_in {
 public:
  fan_in(std::size_t count, std::function<void()> done)
      : remaining_(count), done_(std::move(done)) {
    if (remaining_ == 0) done_();
  }
  void arrive() {
    if (--remaining_ == 0) done_();
  }

 private:
  std::size_t remaining_;
  std::function<void()> done_;
};

}  // namespace sluice
