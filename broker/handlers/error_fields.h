#pragma once
// Filling the (error, error_message) pair every per-topic/per-partition result carries.

#include <string>

#include "broker/wire_error_mapping.h"
#include "protocol/result.h"

namespace sluice {

// T: any object-API result type with `error` and `error_message` members.
template <class T>
void set_error(T& out, const error& e) {
  out.error = to_wire_error(e);
  out.error_message = e.detail.empty() ? e.message() : e.detail;
}

}  // namespace sluice
