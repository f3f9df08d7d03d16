import { redirect } from 'next/navigation';
import { currentViewer } from '../server/auth/current-viewer';

export default async function Home() {
  redirect((await currentViewer()) ? '/incidents' : '/login');
}
