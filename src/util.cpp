#include "util.hpp"

#include <openssl/rand.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace scim {

std::string new_uuid() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) throw std::runtime_error("RAND_bytes failed");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    std::string h = hex(b, sizeof(b));
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
           "-" + h.substr(20);
}

std::string new_time_ordered_uuid() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) throw std::runtime_error("RAND_bytes failed");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    // RFC 9562 §6.2 method 3: rand_a holds the sub-millisecond fraction, and
    // a process never issues a value below its last one, so two resources
    // created in the same millisecond still list in creation order.
    uint64_t stamp = (static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000) << 12 |
                     (static_cast<uint64_t>(ts.tv_nsec % 1000000) << 12) / 1000000;
    static std::atomic<uint64_t> last{0};
    uint64_t prev = last.load(std::memory_order_relaxed);
    do {
        if (stamp <= prev) stamp = prev + 1;
    } while (!last.compare_exchange_weak(prev, stamp, std::memory_order_relaxed));
    uint64_t ms = stamp >> 12;
    for (int i = 0; i < 6; i++) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
    b[6] = static_cast<unsigned char>(0x70 | ((stamp >> 8) & 0x0f));
    b[7] = static_cast<unsigned char>(stamp & 0xff);
    b[8] = (b[8] & 0x3f) | 0x80;
    std::string h = hex(b, sizeof(b));
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
           "-" + h.substr(20);
}

std::string now_rfc3339() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    return buf;
}

static bool digits(std::string_view s, size_t pos, size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool parse_datetime(std::string_view s, int64_t* ms) {
    int Y, M, D, h, m, sec;
    if (!digits(s, 0, 4, &Y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, &M) ||
        s[7] != '-' || !digits(s, 8, 2, &D) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s, 11, 2, &h) || s[13] != ':' || !digits(s, 14, 2, &m) || s[16] != ':' ||
        !digits(s, 17, 2, &sec))
        return false;
    static const int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (M < 1 || M > 12 || D < 1 || D > kDaysIn[M - 1] || h > 23 || m > 59 || sec > 60)
        return false;
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M == 2 && D == 29 && !leap) return false;
    size_t i = 19;
    int frac_ms = 0;
    if (i < s.size() && s[i] == '.') {
        i++;
        size_t start = i;
        int scale = 100;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            frac_ms += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start) return false;
    }
    int64_t offset_min = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (!digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
            !digits(s, i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        offset_min = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return false;
    }
    if (i != s.size()) return false;
    int64_t days = days_from_civil(Y, static_cast<unsigned>(M), static_cast<unsigned>(D));
    int64_t secs = days * 86400 + h * 3600 + m * 60 + sec - offset_min * 60;
    *ms = secs * 1000 + frac_ms;
    return true;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n";
    size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return std::string_view();
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string hex(const unsigned char* p, size_t n) {
    static const char digits_hex[] = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits_hex[p[i] >> 4];
        out[2 * i + 1] = digits_hex[p[i] & 0x0f];
    }
    return out;
}

void set_error(char* err, size_t errlen, const char* fmt, ...) {
    if (err == nullptr || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

std::string format(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) return std::string();
    if (static_cast<size_t>(n) < sizeof(buf)) return std::string(buf, static_cast<size_t>(n));
    std::string out(static_cast<size_t>(n) + 1, '\0');
    va_start(ap, fmt);
    vsnprintf(&out[0], out.size(), fmt, ap);
    va_end(ap);
    out.resize(static_cast<size_t>(n));
    return out;
}

}  // namespace scim
