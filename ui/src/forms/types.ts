/** The forms API's shapes, read from the generated schema by path, like the other resources. */
import type { RequestOf, ResponseOf } from "../api/types";

type Item<L> = L extends { data: (infer T)[] } ? T : never;

export type Form = ResponseOf<"/api/v2/forms/{form_id}", "get">;
export type FormField = Form["fields"][number];
export type FieldType = FormField["type"];
export type FieldOption = FormField["options"][number];
export type FormAction = Form["actions"][number];
export type ActionType = FormAction["type"];
export type FormSuccess = Form["success"];
/** What POST /forms takes; PATCH takes any part of it. */
export type FormWrite = RequestOf<"/api/v2/forms", "post">;
export type FormUpdate = RequestOf<"/api/v2/forms/{form_id}", "patch">;
export type FormEmbed = ResponseOf<"/api/v2/forms/{form_id}/embed", "get">;
export type Submission = Item<ResponseOf<"/api/v2/forms/{form_id}/submissions", "get">>;
export type ContactSubmission = Item<ResponseOf<"/api/v2/contacts/{contact_id}/submissions", "get">>;
/** One entry of GET /api/v2/form-field-types. */
export type FieldTypeInfo = ResponseOf<"/api/v2/form-field-types", "get">[number];

type ValidationDoc = FormField["validation"];
/** Every validation rule, null when unset (the editor's form of ValidationDoc). */
export type FieldValidation = { [K in keyof ValidationDoc]-?: Exclude<ValidationDoc[K], undefined> };
