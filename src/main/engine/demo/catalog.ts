/**
 * Static fixtures for the demo shop: tenant profiles, product catalogues, people and places.
 * Addresses use reserved example data (TEST-NET IPs, example.* mail domains).
 */

/** One product line a cart can hold; prices are in minor units (cents). */
export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly unitPrice: number;
}

/** Everything that makes one tenant's traffic look different from another's. */
export interface TenantProfile {
  readonly name: string;
  /** Share of overall traffic (relative weight). */
  readonly share: number;
  /** Hours added to UTC to get the shop's local time (drives the daily cycle). */
  readonly utcOffset: number;
  readonly currency: string;
  readonly country: string;
  readonly taxRate: number;
  readonly carriers: readonly string[];
  readonly cities: readonly string[];
  readonly products: readonly Product[];
}

const p = (sku: string, name: string, unitPrice: number): Product => ({ sku, name, unitPrice });

const CATALOGUES: readonly (readonly Product[])[] = [
  [
    p('EL-1001', 'Wireless Earbuds', 4999),
    p('EL-1002', 'USB-C Charger 65W', 2999),
    p('EL-1003', 'Mechanical Keyboard', 8999),
    p('EL-1004', 'Noise-Cancelling Headphones', 24999),
    p('EL-1005', '4K Monitor 27"', 32900),
    p('EL-1006', 'Phone Case', 1499),
    p('EL-1007', 'Smart Watch', 19900),
    p('EL-1008', 'HDMI Cable 2m', 999),
    p('EL-1009', 'Portable SSD 1TB', 10999),
    p('EL-1010', 'Webcam 1080p', 5499),
  ],
  [
    p('HK-2001', 'Chef Knife 20cm', 5900),
    p('HK-2002', 'Cast Iron Skillet', 3990),
    p('HK-2003', 'Espresso Machine', 29900),
    p('HK-2004', 'Linen Tea Towels (3)', 1490),
    p('HK-2005', 'Ceramic Mug', 1290),
    p('HK-2006', 'Stand Mixer', 44900),
    p('HK-2007', 'Bamboo Cutting Board', 2490),
    p('HK-2008', 'French Press 1L', 3290),
    p('HK-2009', 'Glass Storage Set', 2790),
  ],
  [
    p('OF-3001', 'Stapler', 1299),
    p('OF-3002', 'Ergonomic Chair', 34900),
    p('OF-3003', 'Printer Paper A4 x500', 799),
    p('OF-3004', 'Gel Pens (12)', 1099),
    p('OF-3005', 'Standing Desk', 49900),
    p('OF-3006', 'Desk Lamp', 3999),
    p('OF-3007', 'Whiteboard 90x60', 5999),
    p('OF-3008', 'Label Maker', 4499),
  ],
  [
    p('HL-4001', 'Vitamin D3 (90)', 1299),
    p('HL-4002', 'First Aid Kit', 2499),
    p('HL-4003', 'Digital Thermometer', 1899),
    p('HL-4004', 'Hand Sanitiser 500ml', 699),
    p('HL-4005', 'Blood Pressure Monitor', 5999),
    p('HL-4006', 'Face Masks (50)', 1199),
    p('HL-4007', 'Electric Toothbrush', 7999),
    p('HL-4008', 'Yoga Mat', 2999),
  ],
];

const REGIONS = [
  { utcOffset: -4, currency: 'USD', country: 'US', taxRate: 0.08, carriers: ['UPS', 'FedEx', 'USPS'] },
  { utcOffset: 2, currency: 'EUR', country: 'DE', taxRate: 0.19, carriers: ['DHL', 'DPD', 'Hermes'] },
  { utcOffset: -7, currency: 'USD', country: 'US', taxRate: 0.0725, carriers: ['UPS', 'USPS'] },
  { utcOffset: 1, currency: 'GBP', country: 'GB', taxRate: 0.2, carriers: ['Royal Mail', 'DPD', 'Evri'] },
] as const;

const CITIES: Record<string, readonly string[]> = {
  US: ['Springfield', 'Riverside', 'Fairview', 'Madison', 'Georgetown', 'Salem', 'Franklin', 'Clinton'],
  DE: ['Berlin', 'Hamburg', 'München', 'Köln', 'Leipzig', 'Dresden', 'Bremen'],
  GB: ['London', 'Leeds', 'Bristol', 'Manchester', 'Glasgow', 'Cardiff', 'York'],
};

/** Default tenants of the demo: four shops in different regions with different catalogues. */
export const DEFAULT_TENANTS: readonly string[] = ['acme', 'globex', 'initech', 'umbrella'];

/** Builds profiles for any tenant names, cycling through the built-in regions and catalogues. */
export function tenantProfiles(names: readonly string[]): TenantProfile[] {
  const shares = [0.4, 0.3, 0.2, 0.1];
  return names.map((name, i) => {
    const region = REGIONS[i % REGIONS.length]!;
    return {
      name,
      share: shares[i % shares.length]! / (1 + Math.floor(i / shares.length)),
      ...region,
      cities: CITIES[region.country]!,
      products: CATALOGUES[i % CATALOGUES.length]!,
    };
  });
}

/** Name parts for customers. */
export const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloe',
  'Dev',
  'Elena',
  'Farid',
  'Grace',
  'Hugo',
  'Ines',
  'Jonas',
  'Kira',
  'Liam',
  'Maya',
  'Noah',
  'Olga',
  'Pablo',
  'Quinn',
  'Rosa',
  'Sam',
  'Tariq',
  'Uma',
  'Victor',
  'Wen',
  'Yusuf',
  'Zoe',
];
/** Name parts for customers. */
export const LAST_NAMES = [
  'Adams',
  'Bauer',
  'Costa',
  'Dubois',
  'Evans',
  'Fischer',
  'Garcia',
  'Hansen',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Meyer',
  'Nakamura',
  'Okafor',
  'Patel',
  'Rossi',
  'Silva',
  'Tanaka',
  'Novak',
  'Walsh',
  'Young',
];
/** Street names for addresses. */
export const STREETS = [
  'Main St',
  'Oak Ave',
  'Station Rd',
  'Mill Lane',
  'High St',
  'Park Rd',
  'Elm St',
  'Church Rd',
];
/** Reserved mail domains, so demo data never names a real mailbox. */
export const MAIL_DOMAINS = ['example.com', 'example.org', 'example.net'];
/** Support agents who appear as `support:<name>` actors. */
export const SUPPORT_AGENTS = ['alice', 'bram', 'chen', 'dara', 'emeka'];

/** Client user agents per channel (kept short so events stay small). */
export const USER_AGENTS = {
  web: [
    'Mozilla/5.0 (Windows NT 10.0; Win64) Chrome/126.0',
    'Mozilla/5.0 (Macintosh; Mac OS X 14_5) Safari/605.1',
    'Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0',
  ],
  mobile: ['ShopApp/4.2.1 (iOS 17.5; iPhone15,2)', 'ShopApp/4.2.1 (Android 14; Pixel 8)'],
  api: ['shop-sdk-python/2.3.0', 'partner-feed/1.4'],
} as const;

/** Card brands and wallets a payment may use. */
export const PAYMENT_METHODS = [
  'card',
  'card',
  'card',
  'paypal',
  'apple_pay',
  'google_pay',
  'klarna',
] as const;
/** Card brands. */
export const CARD_BRANDS = ['visa', 'visa', 'mastercard', 'amex'] as const;
/** Why a payment attempt fails, most common first. */
export const DECLINE_REASONS = [
  'card_declined',
  'insufficient_funds',
  'authentication_required',
  'expired_card',
];
/** Why customers send things back. */
export const RETURN_REASONS = [
  'damaged',
  'wrong_item',
  'not_as_described',
  'no_longer_needed',
  'arrived_late',
];
/** Warehouses that ship parcels. */
export const WAREHOUSES = ['wh-north-1', 'wh-central-2', 'wh-south-1'];
