#include "live_screen.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

#include "report/byte_size.hpp"
#include "terminal_text.hpp"

namespace cowtrace::live {

namespace {

constexpr size_t kBarMaxWidth = 30;
constexpr size_t kBarMinWidth = 5;
constexpr size_t kMaxIndentLevels = 16;

std::string pad(const std::string& text, size_t width) {
    size_t w = display_width(text);
    return w >= width ? text : text + std::string(width - w, ' ');
}

std::string seconds(uint64_t ns) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / 1e9);
    return buf;
}

std::string interval_text(uint64_t ns) {
    char buf[32];
    snprintf(buf, sizeof buf, "%llu ms", static_cast<unsigned long long>(ns / 1'000'000));
    return buf;
}

std::string fork_text(pid_t parent, pid_t child) {
    return std::to_string(parent) + " → " + std::to_string(child);
}

std::string bar(uint64_t part, uint64_t whole, size_t width) {
    size_t filled = whole == 0 ? 0 : static_cast<size_t>(std::min(part, whole) * width / whole);
    return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

struct Section {
    std::string heading;
    std::vector<std::string> rows;
};

// Rows of the process tree: each process under its parent, children by pid; walked with a
// stack of our own (a chain of forks can be thousands deep) and indented at most
// kMaxIndentLevels. A process in a parent cycle (pids reused) is shown as a root.
std::vector<std::string> process_rows(const LiveState& state) {
    const auto& processes = state.processes();
    std::map<pid_t, std::vector<pid_t>> children;
    std::vector<pid_t> roots;
    for (const auto& [pid, p] : processes) {
        if (!p.alive) continue;
        auto parent = processes.find(p.parent);
        bool has_parent = parent != processes.end() && parent->second.alive && p.parent != pid;
        (has_parent ? children[p.parent] : roots).push_back(pid);
    }
    std::vector<std::string> rows;
    std::set<pid_t> shown;
    auto walk = [&](pid_t root) {
        std::vector<std::pair<pid_t, size_t>> stack = {{root, 0}};
        while (!stack.empty()) {
            auto [pid, depth] = stack.back();
            stack.pop_back();
            if (!shown.insert(pid).second) continue;
            const LiveProcess& p = processes.at(pid);
            size_t level = std::min(depth, kMaxIndentLevels);
            std::string indent = depth == 0 ? "" : std::string(2 * (level - 1), ' ') + "└ ";
            std::string command = p.command.empty() ? "?" : printable(p.command);
            rows.push_back(pad(std::to_string(pid), 9) +
                           pad(report::format_bytes(state.pss_of(pid)), 12) + indent + command);
            auto kids = children.find(pid);
            if (kids == children.end()) continue;
            for (auto it = kids->second.rbegin(); it != kids->second.rend(); ++it)
                stack.emplace_back(*it, depth + 1);
        }
    };
    for (pid_t root : roots) walk(root);
    for (const auto& [pid, p] : processes) {
        if (p.alive && !shown.count(pid)) walk(pid);
    }
    return rows;
}

std::vector<std::string> episode_rows(const LiveState& state, size_t width) {
    std::vector<std::string> rows;
    for (const auto& [child, e] : state.episodes()) {
        std::string copied = report::format_bytes(e.copied_bytes);
        if (e.estimated) copied = "~" + copied;
        std::string rate =
            e.samples < 2
                ? "—"
                : report::format_bytes(static_cast<uint64_t>(e.copied_bytes_per_s)) + "/s";
        std::string row = pad(fork_text(e.parent, child), 18) +
                          pad(report::format_bytes(e.shared_bytes), 12) + pad(copied, 12) +
                          pad(rate, 13);
        std::string percent = e.samples == 0
                                  ? "not sampled yet"
                                  : report::format_percent(e.copied_bytes, e.shared_bytes);
        size_t used = display_width(row) + 1 + display_width(percent);
        if (e.samples > 0 && width > used + 2 + kBarMinWidth) {
            size_t bar_width = std::min(kBarMaxWidth, width - used - 2);
            row += bar(e.copied_bytes, e.shared_bytes, bar_width) + " ";
        }
        rows.push_back(row + percent);
    }
    return rows;
}

std::vector<std::string> ended_rows(const LiveState& state) {
    std::vector<std::string> rows;
    const auto& ended = state.recently_ended();
    for (auto it = ended.rbegin(); it != ended.rend(); ++it) {
        std::string row = pad(fork_text(it->parent, it->child), 18);
        if (!it->measured) {
            row += "ended before its first sample, after " + seconds(it->duration_ns);
        } else {
            row += pad(report::format_bytes(it->shared_bytes), 12) +
                   pad((it->estimated ? "~" : "") + report::format_bytes(it->copied_bytes), 12) +
                   pad(report::format_percent(it->copied_bytes, it->shared_bytes), 7) + "after " +
                   seconds(it->duration_ns);
        }
        rows.push_back(row);
    }
    return rows;
}

// Rows each section may show in `room` lines (headings included): open episodes first, then
// the tree, then the episodes just ended.
std::vector<size_t> share_rows(const std::vector<Section>& sections, size_t room) {
    std::vector<size_t> shown(sections.size(), 0);
    std::vector<size_t> order = {1, 0, 2};  // episodes, processes, ended
    // Each section's heading and a first row, while there is room.
    for (size_t s : order) {
        if (s == 2 && sections[s].rows.empty()) continue;  // nothing ended yet: no heading
        size_t want = std::min<size_t>(2, 1 + sections[s].rows.size());
        if (room < want) break;
        shown[s] = want;
        room -= want;
    }
    // Episodes up to half of what is left, then the processes, then everything.
    auto grow = [&](size_t s, size_t limit) {
        if (shown[s] == 0) return;
        size_t want = 1 + sections[s].rows.size() - shown[s];
        size_t more = std::min({want, room, limit});
        shown[s] += more;
        room -= more;
    };
    grow(1, room / 2);
    grow(0, room);
    grow(1, room);
    grow(2, room);
    return shown;
}

}  // namespace

std::vector<std::string> live_screen_lines(const LiveState& state, const ScreenFrame& frame,
                                           int width_in, int height_in) {
    if (width_in <= 0 || height_in <= 0) return {};
    auto width = static_cast<size_t>(width_in);
    auto height = static_cast<size_t>(height_in);
    std::vector<std::string> lines;
    std::string elapsed = seconds(frame.elapsed_ns);
    std::string title = printable(frame.title);
    // The elapsed time at the right end; the title cut to leave it room.
    if (width >= elapsed.size() + 12) {
        size_t room = width - elapsed.size() - 2;
        if (display_width(title) > room) title = cut_to_width(title, room - 1) + "…";
        lines.push_back(pad(title, width - elapsed.size()) + elapsed);
    } else {
        lines.push_back(title);
    }
    size_t open = state.episodes().size();
    size_t alive = 0;
    for (const auto& [pid, p] : state.processes()) alive += p.alive ? 1 : 0;
    uint64_t forks = state.episodes_seen();
    lines.push_back("tree PSS " + report::format_bytes(state.tree_pss_bytes()) + " · copied " +
                    report::format_bytes(state.copied_bytes_total()) + " · " +
                    std::to_string(alive) + (alive == 1 ? " process · " : " processes · ") +
                    std::to_string(forks) + (forks == 1 ? " fork, " : " forks, ") +
                    std::to_string(open) + " open · interval " + interval_text(frame.interval_ns));
    lines.push_back("");

    std::vector<Section> sections(3);
    sections[0].heading = pad("PID", 9) + pad("PSS", 12) + "COMMAND";
    sections[0].rows = process_rows(state);
    sections[1].heading = pad("FORK", 18) + pad("SHARED", 12) + pad("COPIED", 12) +
                          pad("COPY RATE", 13) + "COPIED OF SHARED";
    sections[1].rows = episode_rows(state, width);
    if (sections[1].rows.empty()) sections[1].rows.push_back("(no fork episode open)");
    sections[2].heading = pad("ENDED", 18) + pad("SHARED", 12) + pad("COPIED", 12) + "OF SHARED";
    sections[2].rows = ended_rows(state);

    // Lines left for the sections: less the header, a blank line between sections, the keys.
    size_t fixed = lines.size() + 2 + 1;
    size_t room = height > fixed ? height - fixed : 0;
    std::vector<size_t> shown = share_rows(sections, room);
    bool first = true;
    for (size_t s : {size_t{0}, size_t{1}, size_t{2}}) {
        if (shown[s] == 0) continue;
        if (!first) lines.push_back("");
        first = false;
        lines.push_back(sections[s].heading);
        const std::vector<std::string>& all = sections[s].rows;
        size_t room_rows = shown[s] - 1;
        // When not all fit, the last line says how many are left out.
        size_t rows = room_rows >= all.size() ? all.size() : room_rows == 0 ? 0 : room_rows - 1;
        for (size_t i = 0; i < rows; ++i) lines.push_back(all[i]);
        if (room_rows > 0 && rows < all.size())
            lines.push_back("… " + std::to_string(all.size() - rows) + " more");
    }
    while (lines.size() + 1 < height) lines.push_back("");
    lines.push_back(frame.keys);
    if (lines.size() > height) lines.resize(height);
    for (std::string& line : lines) line = cut_to_width(line, width);
    return lines;
}

}  // namespace cowtrace::live
