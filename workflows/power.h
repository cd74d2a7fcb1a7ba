// Power: what an organ may do with an item's cases (行政许可 powers as 赋权 lists pass them).
//
// Every case action needs one or more powers (frame_actions.h says which); an organ exercises a
// power over an item it implements, or one a delegation in force passes to it (delegation.h).
#pragma once

#include <optional>
#include <string>

namespace tongban {

enum class Power { kAccept, kReview, kDecide };
const char* PowerName(Power power);
std::optional<Power> ParsePower(const std::string& name);

}  // namespace tongban
