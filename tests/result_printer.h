#pragma once
// CHECK(r) / REQUIRE(r) on a sluice::result print the error's message when they fail, instead
// of needing operator<< for the value type. Include it in any test that checks results.

#include <doctest/doctest.h>

#include "protocol/result.h"

template <class T>
struct doctest::StringMaker<boost::system::result<T, sluice::error>> {
  static doctest::String convert(const boost::system::result<T, sluice::error>& r) {
    if (r) return "result(value)";
    return ("result(error: " + r.error().message() + ")").c_str();
  }
};
