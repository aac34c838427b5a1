// dynperiph SDK: a tiny move-only type-erased callable (Fn<R(Args...)>).
//
// Why not std::function: <functional> costs ~0.3 s of compile time per translation unit in C++20 mode
// (it drags in <unordered_map>, <vector>, <tuple>, ...). Plugin rebuild time is a product feature, so
// every SDK header a plugin includes sticks to cheap headers (<cstdint>, <cstddef>, <new>, <type_traits>,
// <exception>). Fn accepts any callable (lambda, function pointer, functor), is move-only, and its
// call operator is one indirect call.
#pragma once

#include <cstddef>
#include <type_traits>

namespace dynperiph {

template <class Sig>
class Fn;

template <class R, class... A>
class Fn<R(A...)> {
    // Two plain function pointers per stored callable (no vtable or typeinfo per lambda type: less code
    // for the compiler to generate in every plugin TU).
    using Call = R (*)(void *, A...);
    using Drop = void (*)(void *);
    void *obj_ = nullptr;
    Call call_ = nullptr;
    Drop drop_ = nullptr;

    void release() noexcept {
        if (drop_)
            drop_(obj_);
        obj_ = nullptr;
        call_ = nullptr;
        drop_ = nullptr;
    }

  public:
    Fn() noexcept = default;
    Fn(std::nullptr_t) noexcept {}
    template <class F, class D = std::decay_t<F>,
              class = std::enable_if_t<!std::is_same_v<D, Fn> && std::is_invocable_r_v<R, D &, A...>>>
    Fn(F &&f)
        : obj_(new D(static_cast<F &&>(f))),
          call_([](void *o, A... a) -> R { return (*static_cast<D *>(o))(static_cast<A &&>(a)...); }),
          drop_([](void *o) { delete static_cast<D *>(o); }) {}
    Fn(Fn &&o) noexcept : obj_(o.obj_), call_(o.call_), drop_(o.drop_) {
        o.obj_ = nullptr;
        o.call_ = nullptr;
        o.drop_ = nullptr;
    }
    Fn &operator=(Fn &&o) noexcept {
        if (this != &o) {
            release();
            obj_ = o.obj_;
            call_ = o.call_;
            drop_ = o.drop_;
            o.obj_ = nullptr;
            o.call_ = nullptr;
            o.drop_ = nullptr;
        }
        return *this;
    }
    Fn(const Fn &) = delete;
    Fn &operator=(const Fn &) = delete;
    ~Fn() { release(); }

    explicit operator bool() const noexcept { return call_ != nullptr; }
    R operator()(A... a) const { return call_(obj_, static_cast<A &&>(a)...); }
};

} // namespace dynperiph
