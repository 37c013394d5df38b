namespace KivaSync.SampleLog;

/// <summary>Fixed pools the generator draws from: names, boxes, products, texts.</summary>
internal static class SampleData
{
    /// <summary>Display name and its ASCII form for email addresses.</summary>
    public static readonly (string Name, string Ascii)[] FirstNames =
    [
        ("Ann", "ann"), ("Bob", "bob"), ("Carla", "carla"), ("David", "david"), ("Emma", "emma"), ("Farid", "farid"),
        ("Grace", "grace"), ("Hiro", "hiro"), ("Isabel", "isabel"), ("Jamal", "jamal"), ("Kate", "kate"), ("Liam", "liam"),
        ("Maya", "maya"), ("Noah", "noah"), ("Olivia", "olivia"), ("Pedro", "pedro"), ("Quinn", "quinn"), ("Rosa", "rosa"),
        ("Sam", "sam"), ("Tara", "tara"), ("Uma", "uma"), ("Victor", "victor"), ("Wen", "wen"), ("Xavier", "xavier"),
        ("Yara", "yara"), ("Zoë", "zoe"), ("José", "jose"), ("Björn", "bjorn"), ("Siobhán", "siobhan"), ("Chloé", "chloe"),
        ("Mei", "mei"), ("Arjun", "arjun"), ("Fatima", "fatima"), ("Lucas", "lucas"), ("Nora", "nora"), ("Omar", "omar"),
        ("Priya", "priya"), ("Ruth", "ruth"), ("Sofia", "sofia"), ("Tom", "tom"), ("Anne-Marie", "annemarie"), ("Jo", "jo"),
    ];

    /// <summary>Display name and its ASCII form for email addresses.</summary>
    public static readonly (string Name, string Ascii)[] LastNames =
    [
        ("Lee", "lee"), ("García", "garcia"), ("Smith", "smith"), ("O'Brien", "obrien"), ("Müller", "muller"), ("Nguyen", "nguyen"),
        ("Patel", "patel"), ("Kowalski", "kowalski"), ("Johnson", "johnson"), ("Okafor", "okafor"), ("Rossi", "rossi"),
        ("Tanaka", "tanaka"), ("Brown", "brown"), ("Dubois", "dubois"), ("Haddad", "haddad"), ("Ivanova", "ivanova"),
        ("Jensen", "jensen"), ("Khan", "khan"), ("López", "lopez"), ("Martin", "martin"), ("Novak", "novak"), ("Park", "park"),
        ("Quintero", "quintero"), ("Reyes", "reyes"), ("Schmidt", "schmidt"), ("Taylor", "taylor"), ("van der Berg", "vanderberg"),
        ("Walker", "walker"), ("Yilmaz", "yilmaz"), ("Zhang", "zhang"), ("Ó Súilleabháin", "osullivan"), ("Anderson", "anderson"),
    ];

    public static readonly string[] Domains =
    [
        "example.com", "example.org", "example.net", "mail.example.com", "inbox.example.org", "post.example.net",
    ];

    /// <summary>A box: name, SKU and price in cents.</summary>
    public sealed record Box(string Name, string Sku, long PriceCents);

    public static readonly Box[] Boxes =
    [
        new("Small Veggie", "SVB", 2999), new("Large Veggie", "LVB", 3999), new("Fruit & Veg", "FVB", 3499),
        new("Family Box", "FAM", 5499), new("Vegan Box", "VGN", 4299), new("Fruit Only", "FRT", 2799),
    ];

    /// <summary>An add-on or recurring product.</summary>
    public sealed record Product(string Sku, string Name, long PriceCents, string Category);

    public static readonly Product[] Products =
    [
        new("EGG12", "Free-range Eggs (12)", 699, "add-on"), new("SRD", "Sourdough Loaf", 599, "bakery"),
        new("HNY", "Wildflower Honey", 1099, "pantry"), new("OAT", "Oat Milk 1L", 349, "dairy-free"),
        new("CHS", "Aged Cheddar 200g", 749, "dairy"), new("COF", "Single-origin Coffee 250g", 1299, "pantry"),
        new("AVO4", "Avocados (4)", 599, "produce"), new("BRY", "Mixed Berries 500g", 899, "produce"),
        new("FLW", "Seasonal Flowers", 1999, "flowers"), new("JAM", "Strawberry Jam", 649, "pantry"),
    ];

    public static readonly string[] Vegetables =
    [
        "Kale", "Chard", "Spinach", "Carrots", "Beetroot", "Leeks", "Fennel", "Broccoli", "Cauliflower", "Courgette",
        "Sweet Potato", "Parsnips", "Rocket", "Pak Choi", "Celeriac", "Radishes", "Tomatoes", "Peppers", "Apples", "Pears",
    ];

    public static readonly string[] Schedules = ["weekly", "weekly", "weekly", "bi-weekly", "bi-weekly", "every 3 weeks", "every 6 weeks"];

    public static readonly string[] ContactSubjects =
    [
        "Do you deliver to 94110?", "Can I pause over the holidays?", "Question about the Family Box",
        "Are your boxes organic?", "Corporate gifting enquiry", "Wholesale for our café?",
        "Allergy question: nuts in the bakery items?", "How big is the Large Veggie box?",
        "My box arrived damaged", "Can I choose the delivery day?",
    ];

    public static readonly string[] CancelReasons =
    [
        "too expensive", "moving house", "too much food", "going on holiday", "switching to a competitor",
        "quality issues", "delivery times don't suit", "growing my own",
    ];

    public static readonly string[] ShippingNotes =
    [
        "Leave at the back door", "Ring the bell twice", "Leave with neighbour at no. 12", "Gate code 4821",
        "Please don't leave in the sun", "Leave in the blue cooler box", "Deliver to reception",
    ];

    public static readonly string[] PromoCodes = ["SPRING50", "FIRSTBOX", "FRIEND20", "PODCAST30", "NEWYEAR25"];

    public static readonly string[] DiscountCodes = ["WELCOME10", "LOYAL15", "SUMMER5", "REFER10"];

    public static readonly string[] Cities =
    [
        "Oakland", "San Francisco", "Berkeley", "Alameda", "Daly City", "San Mateo", "Richmond",
    ];

    public static readonly (string Level, string Message)[] Noise =
    [
        ("info", "cron: cleanup finished in {0}.{1}s"), ("debug", "GET /api/health 200 {0}ms"),
        ("info", "worker: processed {0} jobs"), ("info", "mailer: queue depth {0}"), ("warn", "payments: gateway slow, {0}ms"),
        ("info", "db: vacuum analyze done in {0}s"), ("debug", "cache: evicted {0} keys"), ("info", "routing: planned {0} stops"),
        ("warn", "sms: provider returned 429, retrying in {0}s"), ("info", "inventory: sync completed ({0} skus)"),
        ("error", "image resize failed for upload {0}"), ("info", "webhook: delivered {0} events"),
    ];
}
