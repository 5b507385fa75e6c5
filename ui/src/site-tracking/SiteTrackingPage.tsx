/** Help for website tracking: the snippet to embed, and what it does and does not record. */
import { Checkbox, CodeSnippet, TextInput } from "@carbon/react";
import { useState } from "react";
import { PageHeader } from "../components/common";
import { embedSnippet } from "./api";

export function SiteTrackingPage() {
  const [site, setSite] = useState("www");
  const [consent, setConsent] = useState(false);
  const snippet = embedSnippet(window.location.origin, site, consent);
  return (
    <div>
      <PageHeader
        title="Website tracking"
        description="Record the pages people visit on your websites, link visits to contacts once they submit a form or follow an email link, and let campaigns react to them."
      />
      <section aria-labelledby="web-embed" className="trellis-panel">
        <h2 id="web-embed" className="trellis-h2">
          Embed the script
        </h2>
        <p>Paste this into every page of your site, just before the closing body tag.</p>
        <TextInput
          id="web-site"
          labelText="Site name (optional)"
          helperText="Letters, digits, dot, dash and underscore."
          value={site}
          onChange={(e) => setSite(e.target.value)}
        />
        <Checkbox
          id="web-consent"
          labelText='Wait for consent: record nothing until the page calls trellis("consent")'
          checked={consent}
          onChange={(_, { checked }) => setConsent(checked)}
        />
        <CodeSnippet type="multi" feedback="Copied" aria-label="Tracking snippet">
          {snippet}
        </CodeSnippet>
        {consent ? (
          <p>
            When the visitor agrees (for example in your cookie banner), call <code>trellis("consent")</code>.
          </p>
        ) : null}
      </section>
      <section aria-labelledby="web-privacy" className="trellis-panel">
        <h2 id="web-privacy" className="trellis-h2">
          Privacy
        </h2>
        <ul className="trellis-list">
          <li>Browsers that send Do Not Track or Global Privacy Control are not tracked.</li>
          <li>The visitor id is random and kept on your own site; Trellis sets no cookie and stores no IP address.</li>
          <li>Only the sites listed in TRELLIS_WEB__ALLOWED_ORIGINS may send visits, when that setting is used.</li>
        </ul>
      </section>
    </div>
  );
}
