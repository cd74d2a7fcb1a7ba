#include "engine/submission.h"

#include <algorithm>
#include <exception>

#include "workflows/json_document.h"
#include "workflows/schema_reader.h"
#include "workflows/sha256.h"

namespace tongban {

namespace {

// The field's JSON type (ValueHasFieldType, shared with the validators of guards and bundle
// constants), and for a date or an enum a value of it.
bool HasFieldType(const FormField& field, const nlohmann::json& value) {
  if (!ValueHasFieldType(field.type, value)) return false;
  if (field.type == FieldType::kDate) return IsIsoDate(value.get_ref<const std::string&>());
  if (field.type == FieldType::kEnum) {
    return std::find(field.values.begin(), field.values.end(),
                     value.get_ref<const std::string&>()) != field.values.end();
  }
  return true;
}

std::string ExpectedType(const FormField& field) {
  std::string expected = FieldTypeName(field.type);
  if (field.type == FieldType::kEnum) {
    expected += " (one of";
    for (const std::string& v : field.values)
      expected += " " + v;
    expected += ")";
  } else if (field.type == FieldType::kDate) {
    expected += " (YYYY-MM-DD)";
  }
  return expected;
}

// The commitment the applicant signed, checked against the item's template (告知承诺制).
Status ReadCommitment(const Item& item, const nlohmann::json& data, Instant time,
                      CaseState* state) {
  if (!item.commitment) {
    return Status::InvalidArgument("this item does not offer commitment-based approval (告知承诺)")
        .WithPointer("/mode");
  }
  const CommitmentMode& mode = *item.commitment;
  const nlohmann::json commitment = data.value("commitment", nlohmann::json());
  if (!commitment.is_object() || commitment.value("template_id", "") != mode.template_id ||
      commitment.value("template_version", 0) != mode.template_version ||
      commitment.value("signed_by", "").empty()) {
    return Status::InvalidArgument(
               "commitment mode needs commitment {template_id, template_version, signed_by} "
               "matching the item's template " +
               mode.template_id + " v" + std::to_string(mode.template_version))
        .WithPointer("/commitment");
  }
  // What was signed is pinned by the hash of the template text; an applicant that sends the hash
  // of the text it was shown is refused if that text is not the item's.
  const std::string template_hash = Sha256Hex(mode.template_text);
  const std::string signed_hash = commitment.value("content_hash", "");
  if (!signed_hash.empty() && signed_hash != template_hash) {
    return Status::InvalidArgument("commitment.content_hash does not match the text of template " +
                                   mode.template_id + " v" + std::to_string(mode.template_version) +
                                   ": the applicant signed another text (expected " +
                                   template_hash + ")")
        .WithPointer("/commitment/content_hash");
  }
  state->commitment = CommitmentRecord{mode.template_id, mode.template_version, template_hash,
                                       commitment.value("signed_by", ""), time};
  return Status::Ok();
}

}  // namespace

Status CheckForm(const std::vector<FormField>& fields, const nlohmann::json& form) {
  if (!form.is_object())
    return Status::InvalidArgument("form must be an object").WithPointer("/form");
  for (const auto& [key, value] : form.items()) {
    const FormField* field = FindFormField(fields, key);
    if (field == nullptr) {
      return Status::InvalidArgument("form has an unknown field \"" + key + "\"")
          .WithPointer(JoinJsonPointer("/form", key));
    }
    if (!value.is_null() && !HasFieldType(*field, value)) {
      return Status::InvalidArgument("form field \"" + key + "\" must be a " + ExpectedType(*field))
          .WithPointer(JoinJsonPointer("/form", key));
    }
  }
  for (const FormField& field : fields) {
    if (field.required && (!form.contains(field.id) || form.at(field.id).is_null())) {
      return Status::InvalidArgument("form field \"" + field.id + "\" (" + field.label +
                                     ") is required")
          .WithPointer(JoinJsonPointer("/form", field.id));
    }
  }
  return Status::Ok();
}

Status ReadMaterialIds(const std::vector<Material>& known, const nlohmann::json& materials,
                       std::string_view at, std::vector<std::string>* out) {
  // The member as messages have always named it: "data.missing", "materials".
  std::string name(at.substr(at.empty() ? 0 : 1));
  std::replace(name.begin(), name.end(), '/', '.');
  if (!materials.is_array()) {
    return Status::InvalidArgument(name + " must be a list of material ids")
        .WithPointer(std::string(at));
  }
  for (size_t i = 0; i < materials.size(); ++i) {
    const nlohmann::json& m = materials[i];
    const bool ok = m.is_string() && FindMaterialIn(known, m.get_ref<const std::string&>());
    if (!ok) {
      return Status::InvalidArgument(name + " names an unknown material: " + m.dump())
          .WithPointer(JoinJsonPointer(at, i));
    }
    out->push_back(m.get<std::string>());
  }
  return Status::Ok();
}

Status ReadSubmission(const Item& item, const nlohmann::json& data, Instant time,
                      CaseState* state) {
  CaseState& s = *state;
  // json::value() and get() throw on a wrong type ({"mode": 5}); nothing may escape the engine.
  try {
    const nlohmann::json& identity = data.at("case");
    s.id = identity.at("id").get<std::string>();
    s.number = identity.at("number").get<std::string>();
    s.query_code = identity.at("query_code").get<std::string>();
    const nlohmann::json& applicant = data.at("applicant");
    s.applicant_id = applicant.at("id").get<std::string>();
    s.applicant_name = applicant.value("name", "");
    s.applicant_credit_code = applicant.value("credit_code", "");
    s.definition_id = item.id;
    s.definition_version = item.version;
    s.organ_id = item.organ.id;
    s.mode = data.value("mode", "standard");
    if (s.mode == "standard" && !item.standard_mode) {
      return Status::InvalidArgument("this item is handled in commitment mode only")
          .WithPointer("/mode");
    }
    if (s.mode == "commitment") {
      TONGBAN_RETURN_IF_ERROR(ReadCommitment(item, data, time, &s));
    } else if (s.mode != "standard") {
      return Status::InvalidArgument("mode must be \"standard\" or \"commitment\"")
          .WithPointer("/mode");
    }
    s.form = data.value("form", nlohmann::json::object());
    if (data.contains("reception")) {
      const nlohmann::json& reception = data.at("reception");
      s.received_by = reception.at("organ").get<std::string>();
      s.reception_agreement = reception.at("agreement").get<std::string>();
    }
    if (data.contains("bundle")) {
      const nlohmann::json& bundle = data.at("bundle");
      s.bundle_case_id = bundle.at("case").get<std::string>();
      s.bundle_number = bundle.at("number").get<std::string>();
      s.bundle_part = bundle.at("part").get<std::string>();
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("malformed submission: ") + e.what());
  }
  TONGBAN_RETURN_IF_ERROR(CheckForm(item.form, s.form));
  auto materials = data.find("materials");
  if (materials != data.end()) {
    std::vector<std::string> ids;
    TONGBAN_RETURN_IF_ERROR(ReadMaterialIds(item.materials, *materials, "/materials", &ids));
    s.materials.insert(ids.begin(), ids.end());
  }
  return Status::Ok();
}

}  // namespace tongban
