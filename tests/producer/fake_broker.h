#pragma once
// An in-process broker for the producer's unit tests: it speaks the native protocol on a
// loopback port (ApiVersions, Metadata, InitProducerId, Produce), keeps each partition's batches
// in memory, checks idempotent sequences as sluiced does (duplicates answered with the original
// offset, gaps refused with out_of_order_sequence), refuses batches above a size limit as
// sluiced does (message_too_large), and injects faults on request: refusals, connections
// dropped after a batch was stored, silence.
//
// Threading: the broker runs on its own io thread; the test thread configures it and reads its
// state through the methods below (each runs on that thread and waits).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/batch_header.h"
#include "protocol/bytes.h"
#include "protocol/client/io_thread.h"
#include "protocol/frame_format.h"
#include "protocol/idempotent_window.h"
#include "protocol/result.h"
#include "protocol/sluice_generated.h"

namespace sluice::test {

class fake_broker {
 public:
  struct stored_record {
    std::int64_t offset;
    std::string value;
  };
  // Decides about one batch before the idempotence check; an error refuses it (not stored).
  using produce_fault = std::function<std::optional<wire::ErrorCode>(
      const std::string& topic, std::int32_t partition, const batch_header& h)>;

  fake_broker();
  ~fake_broker();
  fake_broker(const fake_broker&) = delete;
  fake_broker& operator=(const fake_broker&) = delete;

  [[nodiscard]] std::string address() const;

  void create_topic(const std::string& name, std::int32_t partitions);
  void set_produce_fault(produce_fault f);
  // Decides about one batch after it was stored: an error is answered although the batch stays
  // stored, as sluiced answers storage_error when a written batch's fdatasync fails.
  void set_stored_fault(produce_fault f);
  // The next n Produce requests are handled (batches stored) and then the connection is closed
  // without an answer, as if the network failed right after the broker did its work.
  void drop_after_store(int n);
  // While set, requests are read and never answered.
  void set_silent(bool silent);
  // The connections open now read requests and never handle or answer them again, as a
  // half-open connection whose peer is gone; connections made later are served normally.
  void freeze_open_connections();
  [[nodiscard]] int connections_accepted();
  // The next n Produce requests are handled (batches stored) and their answers lost, while the
  // connection stays open and later requests are answered: a request held up on the broker
  // until the client's request timeout, while the requests after it complete. With
  // then_max_request_bytes, the last of them sets the request limit to it (as a broker that
  // restarts with another --max-request-bytes).
  void lose_answers(int n, std::optional<std::uint32_t> then_max_request_bytes = std::nullopt);
  // Forgets every producer's sequences (as a broker whose state was lost), and from now on
  // refuses a batch of an unknown producer id unless its sequence is 0.
  void forget_producers();
  // Every InitProducerId answers with this error (none: normal).
  void set_init_producer_id_error(wire::ErrorCode e);
  // Batches above max_bytes are refused with message_too_large and sluiced's message, after the
  // idempotence check (a retry of a stored batch is still a duplicate), as max.message.bytes.
  void set_max_batch_bytes(std::size_t max_bytes);
  // Frames above max_bytes are refused as sluiced refuses them (--max-request-bytes): with an
  // answer of request id 0 (message_too_large, sluiced's message), and the connection closes.
  // Unlike sluiced, the fake reads the refused frame's body first: a client still writing it
  // when the connection is reset fails on the write before it reads the answer, and whether it
  // does is the scheduler's choice. The first `unanswered` refusals close the connection
  // without an answer, as the client then sees it.
  void set_max_request_bytes(std::uint32_t max_bytes, int unanswered = 0);
  // While set, ApiVersions answers say the request limit, as sluiced does; unset (the default)
  // they do not, as brokers before that field, so the client learns it from a refusal.
  void set_advertise_request_limit(bool on);
  // Ends every connection open now, as a broker that restarts: the client reads the end of the
  // stream. Each such connection counts in connections_ended() once the client has closed it too.
  void end_open_connections();
  // Connections closed so far (by either side).
  [[nodiscard]] int connections_ended();
  [[nodiscard]] int frames_refused();
  // sluiced counts a batch in flight until its refusal completes, so a batch pipelined right
  // behind one refused as too large can be taken as its successor, leaving a gap. While set,
  // the fake does the same: a batch refused as too large moves the expected sequence past it.
  void set_too_large_leaves_gap(bool on);

  // The values stored in a partition, in offset order.
  [[nodiscard]] std::vector<stored_record> records(const std::string& topic,
                                                   std::int32_t partition);
  [[nodiscard]] int produce_requests();
  [[nodiscard]] int producer_ids_given();
  // Batches refused with `code` so far.
  [[nodiscard]] int refusals(wire::ErrorCode code);

 private:
  struct producer_entry {
    std::int16_t epoch = -1;
    std::int32_t next_sequence = 0;
    struct remembered {
      std::int32_t first, last;
      std::int64_t base;
    };
    std::deque<remembered> last_batches;  // at most idempotent_window_batches, as sluiced
  };
  struct partition_log {
    std::vector<byte_buffer> batches;
    std::int64_t end_offset = 0;
    std::map<std::int64_t, producer_entry> producers;
  };
  struct produce_result {
    wire::ErrorCode error = wire::ErrorCode::none;
    std::string message;
    std::int64_t base_offset = -1;
    bool duplicate = false;
  };
  struct reply {
    byte_buffer frame;  // empty: no answer
    bool close_after = false;
  };

  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> refuse_frame(boost::asio::ip::tcp::socket& socket,
                                            std::span<const std::byte> prefix, const error& why);
  reply handle(const wire::Request& req, byte_span payload);
  reply produce(const wire::Request& req, byte_span payload);
  produce_result append(const std::string& topic, std::int32_t partition, byte_span batch);
  std::optional<produce_result> check_sequence(partition_log& log, const batch_header& h);
  produce_result refuse_too_large(partition_log& log, const batch_header& h, std::size_t size);

  io_thread io_{"fake-broker"};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::map<std::string, std::vector<partition_log>> topics_;
  produce_fault fault_;
  produce_fault stored_fault_;
  int drop_after_store_ = 0;
  int lose_answers_ = 0;
  bool silent_ = false;
  bool strict_unknown_producers_ = false;
  wire::ErrorCode init_producer_id_error_ = wire::ErrorCode::none;
  std::optional<std::size_t> max_batch_bytes_;
  std::uint32_t max_request_bytes_ = frame_format::default_max_request_bytes;
  int frames_refused_ = 0;
  int unanswered_refusals_ = 0;
  bool advertise_request_limit_ = false;
  std::optional<std::uint32_t> limit_after_lost_answers_;
  int connections_ended_ = 0;
  bool too_large_leaves_gap_ = false;
  std::map<wire::ErrorCode, int> refusals_;
  std::int64_t next_producer_id_ = 1000;
  int produce_requests_ = 0;
  int connections_accepted_ = 0;
  int frozen_up_to_ = 0;  // connections numbered up to this one are frozen
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
};

}  // namespace sluice::test
