// Loaded on demand: the charting library is the largest part of the dashboard.
import { LineChart, ScaleTypes, SimpleBarChart } from "@carbon/charts-react";
import "@carbon/charts-react/styles.css";
import type { Dashboard } from "./api";

const HEIGHT = "260px";

function dayOf(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

const timeAxes = {
  bottom: { mapsTo: "date", scaleType: ScaleTypes.TIME },
  left: { mapsTo: "value", scaleType: ScaleTypes.LINEAR, title: "Contacts" },
};

export default function DashboardCharts({ data }: { data: Dashboard }) {
  const emails = data.emails.daily.flatMap((d) => [
    { group: "Sent", date: dayOf(d.day), value: d.sent },
    { group: "Opened", date: dayOf(d.day), value: d.opened },
    { group: "Clicked", date: dayOf(d.day), value: d.clicked },
  ]);
  const growth = [
    ...data.new_contacts_daily.map((d) => ({ group: "New contacts", date: dayOf(d.day), value: d.count })),
    ...data.form_submissions_daily.map((d) => ({ group: "Form submissions", date: dayOf(d.day), value: d.count })),
  ];
  const campaigns = data.campaigns.map((c) => ({ group: c.name, value: c.entries }));
  return (
    <div className="trellis-dashboard__charts">
      <LineChart
        data={emails}
        options={{
          title: "Emails per day",
          axes: { ...timeAxes, left: { ...timeAxes.left, title: "Emails" } },
          height: HEIGHT,
          toolbar: { enabled: false },
          accessibility: { svgAriaLabel: "Emails sent, opened and clicked per day" },
        }}
      />
      <LineChart
        data={growth}
        options={{
          title: "New contacts and form submissions per day",
          axes: timeAxes,
          height: HEIGHT,
          toolbar: { enabled: false },
          accessibility: { svgAriaLabel: "New contacts and form submissions per day" },
        }}
      />
      {campaigns.length > 0 ? (
        <SimpleBarChart
          data={campaigns}
          options={{
            title: "Entries per active campaign",
            axes: {
              left: { mapsTo: "group", scaleType: ScaleTypes.LABELS },
              bottom: { mapsTo: "value", title: "Contacts that entered" },
            },
            height: HEIGHT,
            toolbar: { enabled: false },
            legend: { enabled: false },
            accessibility: { svgAriaLabel: "Contacts that entered each active campaign" },
          }}
        />
      ) : null}
    </div>
  );
}
