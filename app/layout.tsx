import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { Providers } from '../components/Providers';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Lensgraph', template: '%s · Lensgraph' },
  description: 'Graph-based detection and response',
  robots: { index: false, follow: false },
};

export const viewport: Viewport = { colorScheme: 'dark', themeColor: '#111418' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
