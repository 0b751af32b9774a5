// SPDX-License-Identifier: MIT
/*
 * trackalloc.hpp - C++17 value and RAII types over trackalloc.h.
 *
 * pkg-config: trackalloc (header-only; installed next to trackalloc.h)
 *
 *   ta::group cache{"cache", {{"component", "storage"}, {"tier", "l1"}}};
 *   {
 *           ta::scope in{cache};        // cache active on this thread ...
 *           auto *item = new Item;      // ... so this is charged to "cache"
 *   }                                   // ... until here
 *   ta_stats st = cache.stats();
 *
 * Everything here is a thin inline layer: no state of its own beyond what the
 * objects hold, no allocation except building a std::system_error's message,
 * and the same contracts as the C functions named (trackalloc.h), including
 * what is thread-safe and what may run inside a tracker callback.
 *
 * Errors. Two forms, pick per call site:
 *  - Throwing: only the registering constructors of ta::group throw, a
 *    std::system_error whose code() is the errno of ta_group_register() in
 *    std::generic_category() (compare with std::errc::invalid_argument,
 *    file_exists, no_space_on_device, not_enough_memory), or std::bad_alloc
 *    if the message cannot be built. They are declared only when exceptions
 *    are enabled (TA_CXX_EXCEPTIONS is 1).
 *  - Non-throwing: everything else is noexcept. ta::group::try_register()
 *    returns an empty group and sets a std::error_code; lookups return an
 *    empty group; scopes and spans return the C API's 0 / negative errno.
 * With -fno-exceptions (TA_CXX_EXCEPTIONS is 0) the throwing constructors are
 * not declared, so calling one is a compile error rather than an abort, and
 * every other function behaves as above; ta::for_each_group() then cannot
 * meet an exception.
 */
#ifndef TRACKALLOC_HPP
#define TRACKALLOC_HPP

#if __cplusplus < 201703L
#error "trackalloc.hpp needs C++17; trackalloc.h alone works from C++11"
#endif

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <system_error>
#include <type_traits>

#include "trackalloc.h"

/** TA_CXX_EXCEPTIONS - 1 when the throwing forms are declared, else 0. */
#if defined(__cpp_exceptions)
#define TA_CXX_EXCEPTIONS 1
#include <exception>
#include <string>
#else
#define TA_CXX_EXCEPTIONS 0
#endif

namespace ta {

/** ta::tag - one key/value tag: {key, value}, both NUL-terminated. */
using tag = ::ta_tag;

/**
 * class ta::tags_view - a group's tags, in registration order: a range of
 * ta::tag over storage that lives until the process exits. Trivially
 * copyable; may be kept and read from any thread.
 */
class tags_view {
public:
	using value_type = tag;
	using size_type = std::size_t;
	using iterator = const tag *;
	using const_iterator = const tag *;

	constexpr tags_view() noexcept = default;
	constexpr tags_view(const tag *data, std::size_t size) noexcept : data_(data), size_(size) {}

	constexpr const tag *begin() const noexcept { return data_; }
	constexpr const tag *end() const noexcept { return data_ + size_; }
	constexpr const tag *data() const noexcept { return data_; }
	constexpr std::size_t size() const noexcept { return size_; }
	constexpr bool empty() const noexcept { return size_ == 0; }
	/** operator[] - the @i-th tag; @i < size(), unchecked. */
	constexpr const tag &operator[](std::size_t i) const noexcept { return data_[i]; }

private:
	const tag *data_ = nullptr;
	std::size_t size_ = 0;
};

/**
 * class ta::group - a non-owning handle on a ta_group, or empty.
 *
 * Groups live until the process exits, so a handle never dangles: copy it,
 * keep it in a static, share it between threads. An empty handle (default
 * constructed, or from a failed try_register() or find()) refers to no
 * group; every accessor is defined on it (see each). Two handles compare
 * equal when they refer to the same group or are both empty.
 */
class group {
public:
	/** group::no_id - id() of an empty group; find(no_id) returns empty. */
	static constexpr std::uint32_t no_id = UINT32_MAX;

	/** group() - the empty handle. */
	constexpr group() noexcept = default;

	/** group(nullptr) - the empty handle, as with a smart pointer. */
	constexpr group(std::nullptr_t) noexcept {}

	/** group(ta_group *) - wrap a pointer a C call returned (NULL: empty). */
	constexpr explicit group(ta_group *g) noexcept : g_(g) {}

#if TA_CXX_EXCEPTIONS
	/**
	 * group(name, tags) - ta_group_register(): find or create the group
	 * called @name with the set of @tags (copied; idempotent, see the C
	 * function for every rule and limit).
	 *
	 * Throws: std::system_error with the errno as a generic_category code:
	 *  EINVAL (bad or NULL name, bad tag, too many tags),
	 *  EEXIST (the name exists with a different set of tags),
	 *  ENOSPC (TA_GROUPS_MAX groups exist), ENOMEM;
	 * std::bad_alloc if the exception's message cannot be built.
	 */
	explicit group(const char *name, std::initializer_list<tag> tags = {})
		: group(name, tags.begin(), tags.size())
	{
	}

	/** group(name, tags, ntags) - as above, from an array of @ntags tags
	 *  (@tags may be NULL when @ntags is 0). */
	group(const char *name, const tag *tags, std::size_t ntags)
		: g_(ta_group_register(name, tags, ntags))
	{
		if (!g_)
			throw_register_error(errno, name);
	}
#endif

	/**
	 * group::try_register - ta_group_register() without exceptions.
	 * @ec: cleared on success; on failure set to the errno listed for the
	 *      throwing constructor, in std::generic_category().
	 * Return: the group, or an empty group on failure.
	 */
	static group try_register(const char *name, const tag *tags, std::size_t ntags,
	                          std::error_code &ec) noexcept
	{
		ta_group *g = ta_group_register(name, tags, ntags);

		if (g)
			ec.clear();
		else
			ec.assign(errno, std::generic_category());
		return group{g};
	}

	/** group::try_register - as above, tags given as {{key, value}, ...}. */
	static group try_register(const char *name, std::initializer_list<tag> tags,
	                          std::error_code &ec) noexcept
	{
		return try_register(name, tags.begin(), tags.size(), ec);
	}

	/** group::try_register - as above, no tags. */
	static group try_register(const char *name, std::error_code &ec) noexcept
	{
		return try_register(name, nullptr, 0, ec);
	}

	/** group::root - ta_group_root(): id 0, name "root". Never empty. */
	static group root() noexcept { return group{ta_group_root()}; }

	/** group::current - ta_group_current(): the calling thread's active
	 *  group. Never empty. */
	static group current() noexcept { return group{ta_group_current()}; }

	/** group::find - ta_group_find(): the group with id @id, or an empty
	 *  group (errno ENOENT) if there is none; not finding is no error. */
	static group find(std::uint32_t id) noexcept { return group{ta_group_find(id)}; }

	/** get - the C handle, for any ta_* call; NULL when empty. */
	constexpr ta_group *get() const noexcept { return g_; }

	/** operator bool - true unless empty. */
	constexpr explicit operator bool() const noexcept { return g_ != nullptr; }

	/** id - ta_group_id(); no_id when empty. */
	std::uint32_t id() const noexcept { return g_ ? ta_group_id(g_) : no_id; }

	/** name - ta_group_name(), valid until exit; "" (never NULL) when
	 *  empty, a name no group has. */
	const char *name() const noexcept { return g_ ? ta_group_name(g_) : ""; }

	/** tags - ta_group_tags(), in registration order; none when empty. */
	tags_view tags() const noexcept
	{
		const tag *t = nullptr;
		std::size_t n = g_ ? ta_group_tags(g_, &t) : 0;

		return tags_view{t, n};
	}

	/** stats - ta_group_stats(), with the same exactness and concurrency
	 *  rules (takes a lock; not async-signal-safe); all zero when empty. */
	ta_stats stats() const noexcept
	{
		ta_stats s{};

		if (g_)
			(void)ta_group_stats(g_, &s); /* fails only for NULL */
		return s;
	}

	friend constexpr bool operator==(group a, group b) noexcept { return a.g_ == b.g_; }
	friend constexpr bool operator!=(group a, group b) noexcept { return a.g_ != b.g_; }

private:
#if TA_CXX_EXCEPTIONS
	[[noreturn]] static void throw_register_error(int err, const char *name)
	{
		std::string what = "ta_group_register \"";

		what += name ? name : "(null)";
		what += '"';
		throw std::system_error(err, std::generic_category(), what);
	}
#endif

	ta_group *g_ = nullptr;
};

/**
 * class ta::scope - enter a group for the lifetime of an object: the RAII
 * form of ta_group_enter() / ta_guard_exit() (what TA_GROUP_SCOPE is in C).
 *
 * Scopes nest and exit LIFO like the guards they hold. A scope belongs to
 * the thread that constructed it: exiting it on another thread returns
 * -EINVAL and changes nothing, so the entering thread stays in the group.
 *
 * Movable (the source becomes inactive: its destructor and exit() do
 * nothing), so a scope can be returned from a function or emplaced into a
 * std::optional; not copyable, since one enter has one exit. Not assignable
 * either: assigning would first have to exit the target, which is almost
 * never the innermost frame and would unwind the source's group with it;
 * reset a std::optional and emplace again instead.
 */
class [[nodiscard]] scope {
public:
	/**
	 * scope(g) - ta_group_enter(@g): make @g active on this thread.
	 * Never fails loudly: when nothing could be entered (@g empty,
	 * TA_NEST_MAX reached, no memory for the thread's state) the scope is
	 * inactive, changes nothing, and enter_result() says why.
	 */
	explicit scope(group g) noexcept : guard_(ta_group_enter(g.get()))
	{
		/* trackalloc.h documents _ta_seq 0 as the inert guard a failed
		 * enter returns; this header ships with the library. */
		active_ = guard_._ta_seq != 0;
		if (!active_)
			result_ = errno ? -errno : -EINVAL;
	}

	/** scope(g) - as above, from a C handle (NULL: inactive, -EINVAL). */
	explicit scope(ta_group *g) noexcept : scope(group{g}) {}

	/** scope(scope &&) - take over @other's enter; @other becomes inactive. */
	scope(scope &&other) noexcept
		: guard_(other.guard_), result_(other.result_), active_(other.active_)
	{
		other.active_ = false;
	}

	scope(const scope &) = delete;
	scope &operator=(const scope &) = delete;
	scope &operator=(scope &&) = delete;

	/** ~scope - exit() if still active, ignoring its result. */
	~scope() noexcept
	{
		if (active_)
			(void)ta_guard_exit(&guard_);
	}

	/**
	 * exit - ta_guard_exit() now rather than at destruction; the scope is
	 * inactive afterwards.
	 * Return: 0 when this was the innermost frame;
	 *  -EINVAL if it was not (the thread still returns to what was active
	 *          before this scope's enter, and every scope, guard or span
	 *          entered after it becomes stale), if it is stale, on another
	 *          thread, or if the scope is inactive (exited already, moved
	 *          from, or its enter failed; nothing changes).
	 */
	int exit() noexcept
	{
		if (!active_)
			return -EINVAL;
		active_ = false;
		return ta_guard_exit(&guard_);
	}

	/** active - true from a successful enter until exit(), the move of
	 *  this scope, or its destruction. A scope made stale by an outer
	 *  out-of-order exit stays active; its exit() returns -EINVAL. */
	bool active() const noexcept { return active_; }

	/** enter_result - 0 if the enter succeeded, else -EINVAL (empty group),
	 *  -ENOSPC (TA_NEST_MAX frames) or -ENOMEM. Kept across moves. */
	int enter_result() const noexcept { return result_; }

private:
	ta_guard guard_;
	int result_ = 0;
	bool active_ = false;
};

/**
 * class ta::span_scope - ta_span_enter() / ta_span_exit() of one span id for
 * the lifetime of an object: the group the span is bound to (ta_span_bind())
 * is active on this thread meanwhile.
 *
 * Same rules as ta::scope: movable (the source becomes inactive), neither
 * copyable nor assignable, exits LIFO. A span exit is matched by id on the
 * calling thread, so a span_scope must be exited on the thread that made it.
 */
class [[nodiscard]] span_scope {
public:
	/**
	 * span_scope(span_id) - ta_span_enter(@span_id).
	 * The scope is active, and exits at destruction, when the enter pushed
	 * a frame: on success (enter_result() 0) and for an unbound span
	 * (-ENOENT, a frame that changes nothing). Otherwise (-EINVAL for id
	 * 0, -ENOSPC, -ENOMEM) it is inactive and nothing changed.
	 */
	explicit span_scope(std::uint64_t span_id) noexcept
		: id_(span_id), result_(ta_span_enter(span_id)),
		  active_(result_ == 0 || result_ == -ENOENT)
	{
	}

	/** span_scope(span_scope &&) - take over @other's frame; @other
	 *  becomes inactive. */
	span_scope(span_scope &&other) noexcept
		: id_(other.id_), result_(other.result_), active_(other.active_)
	{
		other.active_ = false;
	}

	span_scope(const span_scope &) = delete;
	span_scope &operator=(const span_scope &) = delete;
	span_scope &operator=(span_scope &&) = delete;

	/** ~span_scope - exit() if still active, ignoring its result. */
	~span_scope() noexcept
	{
		if (active_)
			(void)ta_span_exit(id_);
	}

	/**
	 * exit - ta_span_exit() now; the scope is inactive afterwards.
	 * Return: what ta_span_exit() returns: 0 if the innermost frame was this
	 * span's; -ENOENT if it was the no-op frame of an unbound span; -EINVAL
	 * if it was not the innermost (the thread is unwound or left as
	 * ta_span_exit() describes) or the scope is inactive (nothing changes).
	 */
	int exit() noexcept
	{
		if (!active_)
			return -EINVAL;
		active_ = false;
		return ta_span_exit(id_);
	}

	/** id - the span id given to the constructor. */
	std::uint64_t id() const noexcept { return id_; }

	/** active - true while this object holds a frame it has not exited. */
	bool active() const noexcept { return active_; }

	/** enter_result - what ta_span_enter() returned. Kept across moves. */
	int enter_result() const noexcept { return result_; }

private:
	std::uint64_t id_;
	int result_;
	bool active_;
};

/** @cond internal */
namespace detail {

template <class F>
struct foreach_call {
	explicit foreach_call(F &f) noexcept : fn(f) {}

	F &fn;
#if TA_CXX_EXCEPTIONS
	std::exception_ptr error = nullptr;
#endif

	/* Nothing unwinds through the library's C frames: an exception is
	 * kept, stops the walk, and is rethrown by for_each_group(). */
	static int visit(ta_group *g, void *arg) noexcept
	{
		auto *self = static_cast<foreach_call *>(arg);
#if TA_CXX_EXCEPTIONS
		try {
#endif
			if constexpr (std::is_void_v<std::invoke_result_t<F &, group>>) {
				self->fn(group{g});
				return 0;
			} else {
				int ret = self->fn(group{g});
				return ret;
			}
#if TA_CXX_EXCEPTIONS
		} catch (...) {
			self->error = std::current_exception();
			return 1;
		}
#endif
	}
};

} // namespace detail
/** @endcond */

/**
 * ta::for_each_group - ta_group_foreach() with any callable: call @fn(group)
 * for every group, root first, in id order.
 * @fn: returns void (visit every group) or int (non-zero stops the walk).
 *
 * As in C, no lock is held while @fn runs (it may call any function here,
 * including register groups, which may or may not be visited). An exception
 * from @fn stops the walk and propagates from this call; it never crosses
 * the library's C frames.
 *
 * Return: 0 after visiting every group, or the first non-zero value @fn
 * returned.
 */
template <class F>
int for_each_group(F &&fn)
{
	using result = std::invoke_result_t<std::remove_reference_t<F> &, group>;
	static_assert(std::is_void_v<result> || std::is_same_v<result, int>,
	              "ta::for_each_group: the callable returns void or int");
	detail::foreach_call<std::remove_reference_t<F>> call{fn};
	int ret = ta_group_foreach(&detail::foreach_call<std::remove_reference_t<F>>::visit, &call);

#if TA_CXX_EXCEPTIONS
	if (call.error)
		std::rethrow_exception(call.error);
#endif
	return ret;
}

} // namespace ta

#endif /* TRACKALLOC_HPP */
