'use client';
/** The frame around every signed-in page: brand, main navigation, and the user menu. */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { UserMenu } from './UserMenu';

export interface ShellViewer {
  username: string;
  role: string;
  canWork: boolean;
  canAdmin: boolean;
}

interface NavItem {
  href: string;
  label: string;
  show: (v: ShellViewer) => boolean;
}

const NAV: NavItem[] = [
  { href: '/incidents', label: 'Incidents', show: () => true },
  { href: '/upload', label: 'Upload', show: (v) => v.canWork },
  { href: '/pipeline', label: 'Pipeline', show: () => true },
  { href: '/admin', label: 'Admin', show: (v) => v.canAdmin },
];

export function AppShell({ viewer, children }: { viewer: ShellViewer; children: ReactNode }) {
  const pathname = usePathname();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/incidents" className="brand" aria-label="Lensgraph home">
          <span className="brand-mark" aria-hidden="true">
            ◎
          </span>
          Lensgraph
        </Link>
        <nav aria-label="Main" className="main-nav">
          <ul>
            {NAV.filter((item) => item.show(viewer)).map((item) => {
              const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
              return (
                <li key={item.href}>
                  <Link
                    href={item.href}
                    aria-current={active ? 'page' : undefined}
                    className={active ? 'active' : undefined}
                  >
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <UserMenu username={viewer.username} role={viewer.role} />
      </header>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
