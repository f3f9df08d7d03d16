import { redirect } from 'next/navigation';
import { lensHref } from '../../../../components/engagement/api';
import { lensIdFromSegment } from '../../../../components/engagement/route-id';

/** /lenses/<id> is an alias: the engagement view lives under Incidents (keeps the query string). */
export default async function LensAlias({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { id } = await params;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(await searchParams)) {
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) qs.append(k, one);
  }
  const query = qs.toString();
  redirect(`${lensHref(lensIdFromSegment(id))}${query ? `?${query}` : ''}`);
}
