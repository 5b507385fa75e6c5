import { Link } from "react-router-dom";
import { PageHeader } from "./common";

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" description="There is nothing at this address." />
      <Link to="/">Back to the dashboard</Link>
    </>
  );
}
