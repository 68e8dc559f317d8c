// An owning pointer that copies what it points to when it is copied: a model type can hold its
// rarely-filled part behind one pointer (8 bytes, null for most) and stay copyable as a whole.
#pragma once

#include <memory>

namespace cowtrace::model {

template <class T>
class CopiedPtr {
public:
    CopiedPtr() = default;
    CopiedPtr(const CopiedPtr& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
    CopiedPtr& operator=(const CopiedPtr& o) {
        if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
        return *this;
    }
    CopiedPtr(CopiedPtr&&) noexcept = default;
    CopiedPtr& operator=(CopiedPtr&&) noexcept = default;

    explicit operator bool() const { return p_ != nullptr; }
    const T* operator->() const { return p_.get(); }
    // The object, made (value-initialized) on first use.
    T& made() {
        if (!p_) p_ = std::make_unique<T>();
        return *p_;
    }

private:
    std::unique_ptr<T> p_;
};

}  // namespace cowtrace::model
