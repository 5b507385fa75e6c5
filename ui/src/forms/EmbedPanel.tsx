/** The embed tab: the hosted page's link, the script snippet and the plain HTML, each to copy. */
import { Launch } from "@carbon/icons-react";
import { CodeSnippet, InlineNotification, Link as CarbonLink, SkeletonText, Stack } from "@carbon/react";
import { useQuery } from "@tanstack/react-query";
import { describeError } from "../api/problem";
import { formsApi } from "./api";
import type { Form } from "./types";

export function EmbedPanel({ form }: { form: Form }) {
  const embed = useQuery({
    // The snippets change with the fields, the alias and the publication: keyed by version.
    queryKey: ["forms", "embed", form.id, form.version],
    queryFn: () => formsApi.embed(form.id),
  });
  if (embed.isPending) return <SkeletonText paragraph lineCount={6} />;
  if (embed.isError) {
    return (
      <InlineNotification
        kind="error"
        title="Could not load the embed code"
        subtitle={describeError(embed.error)}
        hideCloseButton
        lowContrast
      />
    );
  }
  const e = embed.data;
  return (
    <Stack gap={6} className="trellis-fe__embed">
      {!form.is_published ? (
        <InlineNotification
          kind="warning"
          lowContrast
          hideCloseButton
          title="Not published"
          subtitle="The hosted page and the embedded form refuse submissions until the form is published."
        />
      ) : null}
      {form.allowed_origins.length === 0 ? (
        <InlineNotification
          kind="info"
          lowContrast
          hideCloseButton
          title="No allowed origin"
          subtitle="Embedded on another website, the form is posted from that site: add its origin under Settings."
        />
      ) : null}
      <section aria-labelledby="embed-hosted">
        <h2 id="embed-hosted" className="trellis-h3">
          Hosted page
        </h2>
        <p className="trellis-muted">A plain page with the form alone, to link to from anywhere.</p>
        <p>
          <CarbonLink href={e.url} target="_blank" rel="noopener noreferrer" renderIcon={Launch}>
            {e.url}
          </CarbonLink>
        </p>
        <CodeSnippet type="single" feedback="Copied" aria-label="Hosted page URL" copyButtonDescription="Copy the URL">
          {e.url}
        </CodeSnippet>
      </section>
      <section aria-labelledby="embed-script">
        <h2 id="embed-script" className="trellis-h3">
          Script
        </h2>
        <p className="trellis-muted">
          Paste it where the form should appear: the script writes the form there and sends it without leaving the page.
        </p>
        <CodeSnippet type="multi" feedback="Copied" aria-label="Script snippet" copyButtonDescription="Copy the script">
          {e.script}
        </CodeSnippet>
      </section>
      <section aria-labelledby="embed-html">
        <h2 id="embed-html" className="trellis-h3">
          Plain HTML
        </h2>
        <p className="trellis-muted">
          The form itself, to style as you like. It works without JavaScript; after sending, the visitor sees the
          thank-you page or your redirect.
        </p>
        <CodeSnippet
          type="multi"
          feedback="Copied"
          aria-label="Plain HTML"
          copyButtonDescription="Copy the HTML"
          maxCollapsedNumberOfRows={12}
        >
          {e.html}
        </CodeSnippet>
      </section>
    </Stack>
  );
}
