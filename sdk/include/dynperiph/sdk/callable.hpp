// dynperiph SDK: a tiny move-only type-erased callable (Fn<R(Args...)>).
//
// Why not std::function: <functional> costs ~0.3 s of compile time per translation unit in C++20 mode
// (it drags in <unordered_map>, <vector>, <tuple>, ...). Plugin rebuild time is a product feature, so
// every SDK header a plugin includes sticks to cheap headers (<cstdint>, <cstddef>, <new>, <type_traits>,
// <exception>). Fn accepts any callable (lambda, function pointer, functor), is move-only, and its
// call operator is one virtual call.
#pragma once

#include <cstddef>
#include <type_traits>

namespace dynperiph {

template <class Sig>
class Fn;

template <class R, class... A>
class Fn<R(A...)> {
    struct Base {
        virtual R call(A... a) = 0;
        virtual ~Base() = default;
    };
    template <class F>
    struct Impl final : Base {
        F f;
        explicit Impl(F &&x) : f(static_cast<F &&>(x)) {}
        explicit Impl(const F &x) : f(x) {}
        R call(A... a) override { return f(static_cast<A &&>(a)...); }
    };
    Base *p_ = nullptr;

  public:
    Fn() noexcept = default;
    Fn(std::nullptr_t) noexcept {}
    template <class F, class D = std::decay_t<F>,
              class = std::enable_if_t<!std::is_same_v<D, Fn> && std::is_invocable_r_v<R, D &, A...>>>
    Fn(F &&f) : p_(new Impl<D>(static_cast<F &&>(f))) {}
    Fn(Fn &&o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    Fn &operator=(Fn &&o) noexcept {
        if (this != &o) {
            delete p_;
            p_ = o.p_;
            o.p_ = nullptr;
        }
        return *this;
    }
    Fn(const Fn &) = delete;
    Fn &operator=(const Fn &) = delete;
    ~Fn() { delete p_; }

    explicit operator bool() const noexcept { return p_ != nullptr; }
    R operator()(A... a) const { return p_->call(static_cast<A &&>(a)...); }
};

} // namespace dynperiph
