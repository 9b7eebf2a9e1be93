#pragma once
// Filling the (error, error_message) pair every per-topic/per-partition result carries.

#include <string>

#include "broker/wire_error_mapping.h"
#include "protocol/result.h"

namespace sluice {

// T: any object-API result type with `error` and `error_message` members.
// An errno's text stays in the message ("... (Input/output error)"): the wire code alone
// (storage_error) does not say which I/O error it was.
template <class T>
void set_error(T& out, const error& e) {
  out.error = to_wire_error(e);
  const bool io_error = e.code.category() == boost::system::system_category() ||
                        e.code.category() == boost::system::generic_category();
  out.error_message = e.detail.empty() || io_error ? e.message() : e.detail;
}

}  // namespace sluice
