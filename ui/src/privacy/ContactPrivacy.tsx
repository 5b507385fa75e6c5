/** The contact page's privacy panel: consent history, the personal-data export and erasure. */
import { Button, Tag } from "@carbon/react";
import { Download, TrashCan } from "@carbon/icons-react";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { describeError } from "../api/problem";
import { ConfirmDelete } from "../components/ConfirmDelete";
import { ListTable } from "../components/ListTable";
import { formatDateTime } from "../components/common";
import { useToast } from "../components/Toasts";
import { type ConsentRecord, consentsKey, exportUrl, privacyApi } from "./api";

export function ContactPrivacy({
  contactId,
  label,
  erasable,
}: {
  contactId: number;
  label: string;
  erasable: boolean;
}) {
  const navigate = useNavigate();
  const { notify } = useToast();
  const [confirming, setConfirming] = useState(false);
  const consents = useQuery({ queryKey: consentsKey(contactId), queryFn: () => privacyApi.consents(contactId) });
  const current = Object.entries(consents.data?.current ?? {});

  return (
    <>
      <div className="trellis-actions">
        <Button kind="tertiary" renderIcon={Download} href={exportUrl(contactId)}>
          Export personal data
        </Button>
        {erasable ? (
          <Button kind="danger--tertiary" renderIcon={TrashCan} onClick={() => setConfirming(true)}>
            Erase on request
          </Button>
        ) : null}
      </div>
      {current.length ? (
        <p aria-label="Current consents">
          {current.map(([purpose, granted]) => (
            <Tag key={purpose} type={granted ? "green" : "gray"}>
              {purpose}: {granted ? "given" : "withdrawn"}
            </Tag>
          ))}
        </p>
      ) : null}
      {consents.isError ? (
        <p role="alert" className="trellis-muted">
          Could not load the consents: {describeError(consents.error)}
        </p>
      ) : (
        <ListTable<ConsentRecord>
          title="Consent history"
          columns={[
            { key: "when", header: "When", render: (c) => formatDateTime(c.occurred_at) },
            { key: "purpose", header: "Purpose", render: (c) => c.purpose },
            { key: "granted", header: "Consent", render: (c) => (c.granted ? "Given" : "Withdrawn") },
            {
              key: "wording",
              header: "Wording shown",
              render: (c) => (
                <span className="trellis-fe__value" title={c.wording}>
                  {c.wording || "—"}
                  {c.wording_version ? ` (version ${c.wording_version})` : ""}
                </span>
              ),
            },
            { key: "source", header: "Source", render: (c) => c.source },
            { key: "ip", header: "Network", render: (c) => c.ip ?? "—" },
          ]}
          items={consents.data?.data}
          loading={consents.isPending}
          rowLabel={(c) => `Consent ${c.id}`}
          emptyText="No consent recorded."
        />
      )}
      <ConfirmDelete
        open={confirming}
        title={`Erase ${label}?`}
        body="Every trace of this person is removed from every table, for good, and their address goes on the suppression list: no import, form or API call brings them back unless they opt in again. The erasure is recorded in the audit log without their data."
        confirmLabel="Erase"
        onConfirm={async () => {
          await privacyApi.erase(contactId);
          notify("success", `${label} was erased`);
          void navigate("/contacts");
        }}
        onClose={() => setConfirming(false)}
      />
    </>
  );
}
