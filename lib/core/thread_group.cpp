#include "thread_group.hpp"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cowtrace {

bool task_exiting(const std::string& stat_line) {
    // "pid (comm) state ppid pgrp session tty_nr tpgid flags ...": comm may hold anything, so
    // the fields are counted from its closing parenthesis.
    auto paren = stat_line.rfind(')');
    if (paren == std::string::npos) return true;
    std::istringstream fields(stat_line.substr(paren + 1));
    std::string field;
    for (int i = 0; i < 7 && fields >> field; ++i) {
    }
    if (!fields) return true;
    unsigned long flags = strtoul(field.c_str(), nullptr, 10);
    return (flags & kTaskFlagExiting) != 0;
}

std::vector<pid_t> thread_ids(pid_t pid) {
    std::vector<pid_t> tids;
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* tasks = opendir(dir.c_str());
    if (tasks == nullptr) return tids;
    while (dirent* d = readdir(tasks)) {
        if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
        tids.push_back(static_cast<pid_t>(atoi(d->d_name)));
    }
    closedir(tasks);
    return tids;
}

bool thread_group_running(pid_t tgid) {
    std::string dir = "/proc/" + std::to_string(tgid) + "/task/";
    for (pid_t tid : thread_ids(tgid)) {
        std::ifstream stat(dir + std::to_string(tid) + "/stat");
        std::string line;
        if (std::getline(stat, line) && !task_exiting(line)) return true;
    }
    return false;
}

}  // namespace cowtrace
