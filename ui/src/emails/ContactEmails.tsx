import { SendsTable } from "./EmailSends";

/** The contact page's emails: every message sent (or not sent, and why) to the contact. */
export function ContactEmails({ contactId }: { contactId: number }) {
  return <SendsTable contactId={contactId} title="Messages" />;
}
