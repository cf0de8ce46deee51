// Status and Result<T>: errors as values between layers (no exceptions across layers).
//
// A Status carries a Code that callers branch on and a human-readable message that ends up in
// logs and in HTTP {"error": ...} bodies. Result<T> is either a value or a non-ok Status.
// Both are plain values: copyable, movable, safe to pass between threads.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace cistern {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,  // bad input from a client: 400, nothing stored
    kTooLarge,         // body / batch over a limit: 413
    kUnsupported,      // e.g. unknown Content-Encoding: 415
    kBufferFull,       // backpressure: 503 + Retry-After
    kDiskFull,         // SQLITE_FULL: transaction rolled back cleanly, 507, retry later
    kIoError,          // file state unknown: sticky until the store is reopened, 500
    kBusy,             // lock held by someone else
    kUnavailable,      // shutting down, or a peer is unreachable (retryable)
    kInternal,         // a bug or an unexpected library failure
  };

  Status() = default;  // ok
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
  static Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
  static Status BufferFull(std::string m) { return {Code::kBufferFull, std::move(m)}; }
  static Status DiskFull(std::string m) { return {Code::kDiskFull, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? "ok" : message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result needs a value or an error");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: !ok() for status() to be an error; returns Ok when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cistern
