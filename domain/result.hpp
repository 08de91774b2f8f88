// result<T>: a value or a domain::error, the return type of every service operation.
#pragma once

#include "domain/error.hpp"

#include <functional>
#include <utility>
#include <variant>

namespace eventhub::domain {

struct unit {};

template <class T> class result {
 public:
  result(T value) : state_(std::move(value)) {}
  result(error err) : state_(std::move(err)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() { return std::get<0>(state_); }
  const T& value() const { return std::get<0>(state_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

  error& err() { return std::get<1>(state_); }
  const error& err() const { return std::get<1>(state_); }

 private:
  std::variant<T, error> state_;
};

/// How every asynchronous operation answers: invoked exactly once, on any thread.
template <class T> using reply = std::function<void(result<T>)>;

} // namespace eventhub::domain
